//! No Docker engine runs where the tests run, so the deployment files are checked by reading
//! them: what they promise must agree with the code and the README.

use std::{collections::BTreeSet, path::Path};

use regex::Regex;
use serde_yaml::Value;

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

/// Every variable `src/config.rs` reads.
fn config_variables() -> BTreeSet<String> {
    let source = read("src/config.rs");
    let pattern = Regex::new(r#"(?:get|parse|flag|file)\(\s*"([A-Z][A-Z0-9_]+)""#).unwrap();
    pattern
        .captures_iter(&source)
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn the_readme_documents_every_variable() {
    let readme = read("README.md");
    let variables = config_variables();
    assert!(variables.len() >= 10, "{variables:?}");
    for variable in variables.iter().chain(&["TEST_DATABASE_URL".to_owned()]) {
        assert!(
            readme.contains(&format!("| `{variable}` |")),
            "README's configuration table lacks {variable}"
        );
    }
}

/// A service's environment: every key is one schakel reads.
fn environment<'a>(service: &'a Value, known: &BTreeSet<String>) -> &'a serde_yaml::Mapping {
    let environment = service["environment"].as_mapping().unwrap();
    for key in environment.keys() {
        let key = key.as_str().unwrap();
        assert!(
            known.contains(key) || key == "RUST_LOG",
            "compose sets {key}, which schakel does not read"
        );
    }
    environment
}

/// The shell script a service's entrypoint runs.
fn script(service: &Value) -> String {
    let entrypoint: Vec<&str> = service["entrypoint"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(entrypoint[..2], ["sh", "-c"]);
    entrypoint
        .last()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn compose_migrates_as_the_owner_serves_as_the_least_privileged_role_on_loopback() {
    let compose: Value = serde_yaml::from_str(&read("docker-compose.yml")).unwrap();
    let known = config_variables();
    let db = &compose["services"]["db"];
    assert!(db["image"].as_str().unwrap().starts_with("postgres:16"));
    assert!(db["healthcheck"]["test"].is_sequence());
    assert!(db["ports"][0].as_str().unwrap().starts_with("127.0.0.1:"));
    // The runtime role is created by an init script that exists.
    let init = db["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|v| v.ends_with(":/docker-entrypoint-initdb.d:ro"))
        .expect("an init script mount");
    let dir = init.split(':').next().unwrap();
    let sql = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(sql.contains("CREATE ROLE schakel_app LOGIN"), "{sql}");

    let api = &compose["services"]["api"];
    assert_eq!(api["build"], Value::from("."));
    assert_eq!(
        api["depends_on"]["db"]["condition"],
        Value::from("service_healthy")
    );
    // Published on loopback unless asked otherwise; healthy by its own check.
    assert_eq!(
        api["ports"][0],
        Value::from("${API_BIND:-127.0.0.1}:${API_PORT:-8080}:8080")
    );
    assert_eq!(
        api["healthcheck"]["test"],
        serde_yaml::from_str::<Value>(r#"["CMD", "schakel", "health"]"#).unwrap()
    );
    let env = environment(api, &known);
    assert_eq!(env["BIND_ADDR"], Value::from("0.0.0.0:8080"));
    let url = env["DATABASE_URL"].as_str().unwrap();
    assert!(
        url.starts_with("postgres://schakel_app:") && url.contains("@db:5432/"),
        "{url}"
    );
    let owner = env["MIGRATION_DATABASE_URL"].as_str().unwrap();
    assert!(owner.starts_with("postgres://postgres@db:5432/"), "{owner}");
    assert_eq!(env["DATABASE_RUNTIME_ROLE"], Value::from("schakel_app"));
    assert!(
        !env.contains_key("MIGRATE_ON_START"),
        "`schakel migrate` runs first"
    );
    // No fixed secret: the given one or one generated on first start, in the volume.
    assert_eq!(
        env["JWT_HS256_SECRET"],
        Value::from("${JWT_HS256_SECRET:-}")
    );
    assert_eq!(
        env["JWT_HS256_SECRET_FILE"],
        Value::from("/var/lib/schakel/jwt-dev-secret")
    );
    assert_eq!(
        env["AUDIT_SIGNING_KEY_FILE"],
        Value::from("/var/lib/schakel/audit-signing-key.pem")
    );
    assert_eq!(
        env["WEBHOOK_SECRET_KEYS_FILE"],
        Value::from("/var/lib/schakel/webhook-secret-keys")
    );
    assert_eq!(api["volumes"][0], Value::from("secrets:/var/lib/schakel"));
    let steps = script(api);
    assert!(steps.starts_with("umask 077 &&"), "{steps}");
    assert!(steps.contains("/dev/urandom"), "{steps}");
    assert!(
        steps.contains("schakel audit keygen --out /var/lib/schakel/audit-signing-key.pem"),
        "{steps}"
    );
    assert!(
        steps.contains("schakel webhook-key --id compose > /var/lib/schakel/webhook-secret-keys"),
        "{steps}"
    );
    assert!(
        steps.ends_with("&& schakel migrate && schakel demo && exec schakel serve"),
        "schakel itself receives SIGTERM: {steps}"
    );
}

#[test]
fn the_image_builds_with_migrations_and_runs_as_a_non_root_user() {
    let dockerfile = read("Dockerfile");
    let stages: Vec<&str> = dockerfile.split("\nFROM ").collect();
    assert!(stages.len() >= 3, "a multi-stage build");
    assert!(
        stages[1].contains("COPY migrations"),
        "migrations are embedded at build time"
    );
    assert!(stages[1].contains("--locked"));
    let runtime = stages.last().unwrap();
    assert!(runtime.contains("USER schakel"));
    assert!(
        runtime.contains("install -d -o schakel -m 0700 /var/lib/schakel"),
        "the seal key's volume is the service user's, like the directory it is mounted on"
    );
    assert!(runtime.contains("useradd --system"));
    assert!(runtime.contains("EXPOSE 8080"));
    assert!(runtime.contains("BIND_ADDR=0.0.0.0:8080"));

    // The builder's Rust is at least the crate's rust-version.
    let manifest = read("Cargo.toml");
    let wanted = Regex::new(r#"rust-version = "(\d+)\.(\d+)""#)
        .unwrap()
        .captures(&manifest)
        .map(|c| (c[1].parse::<u32>().unwrap(), c[2].parse::<u32>().unwrap()))
        .unwrap();
    let image = Regex::new(r"rust:(\d+)\.(\d+)")
        .unwrap()
        .captures(stages[1])
        .map(|c| (c[1].parse::<u32>().unwrap(), c[2].parse::<u32>().unwrap()))
        .unwrap();
    assert!(
        image >= wanted,
        "rust image {image:?} < rust-version {wanted:?}"
    );
}
