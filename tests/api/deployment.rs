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
    let pattern = Regex::new(r#"(?:get|parse|flag)\(\s*"([A-Z][A-Z0-9_]+)""#).unwrap();
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

#[test]
fn compose_runs_postgres_16_and_the_api_after_it_is_healthy() {
    let compose: Value = serde_yaml::from_str(&read("docker-compose.yml")).unwrap();
    let db = &compose["services"]["db"];
    assert!(db["image"].as_str().unwrap().starts_with("postgres:16"));
    assert!(db["healthcheck"]["test"].is_sequence());

    let api = &compose["services"]["api"];
    assert_eq!(api["build"], Value::from("."));
    assert_eq!(
        api["depends_on"]["db"]["condition"],
        Value::from("service_healthy")
    );
    assert!(
        api["ports"][0].as_str().unwrap().ends_with(":8080"),
        "published on 8080"
    );
    let environment = api["environment"].as_mapping().unwrap();
    let known = config_variables();
    for key in environment.keys() {
        let key = key.as_str().unwrap();
        assert!(
            known.contains(key) || key == "RUST_LOG",
            "compose sets {key}, which schakel does not read"
        );
    }
    assert_eq!(environment["BIND_ADDR"], Value::from("0.0.0.0:8080"));
    assert_eq!(environment["MIGRATE_ON_START"], Value::from("true"));
    let database_url = environment["DATABASE_URL"].as_str().unwrap();
    assert!(database_url.contains("@db:5432/"), "{database_url}");
    let entrypoint: Vec<&str> = api["entrypoint"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let script = entrypoint.last().unwrap();
    assert!(script.contains("schakel demo") && script.ends_with("exec schakel serve"));
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
