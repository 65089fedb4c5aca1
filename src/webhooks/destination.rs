//! Where a webhook may go (OWASP API7, server-side request forgery): only to public addresses.
//!
//! A subscription URL is checked when it is created and again at every delivery: its host's
//! addresses — an IP literal, or every address its name resolves to — must all be public.
//! Deliveries connect through [`CheckedResolver`], so reqwest connects to exactly the
//! addresses that were checked; there is no second lookup a rebinding DNS server could answer
//! differently. Loopback is allowed only with `WEBHOOK_ALLOW_INSECURE_LOOPBACK=true`
//! (development). Refusals are one generic message, so the subscription API and the delivery
//! records cannot map the deployment's network.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    sync::{Arc, Mutex},
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What every refused destination is told, whatever the reason.
pub const NOT_ALLOWED: &str =
    "is not an allowed destination: it must resolve to public addresses only";

/// The kinds of address a destination may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Loopback,
    /// RFC 1918, and IPv6 unique local (fc00::/7) and site-local (fec0::/10).
    Private,
    /// 169.254.0.0/16 (cloud metadata lives here) and fe80::/10.
    LinkLocal,
    /// 100.64.0.0/10, carrier-grade NAT.
    SharedAddressSpace,
    Multicast,
    /// 0.0.0.0, ::, and the rest of 0.0.0.0/8.
    Unspecified,
    /// Broadcast, documentation, benchmarking, protocol assignments and future use.
    Reserved,
}

/// Classifies an address; IPv4 embedded in IPv6 (mapped `::ffff:a.b.c.d`, compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) is classified as the IPv4 address it carries.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        _ if ip.is_unspecified() || a == 0 => AddressClass::Unspecified,
        _ if ip.is_loopback() => AddressClass::Loopback,
        _ if ip.is_private() => AddressClass::Private,
        _ if ip.is_link_local() => AddressClass::LinkLocal,
        (100, 64..=127, _) => AddressClass::SharedAddressSpace,
        _ if ip.is_multicast() => AddressClass::Multicast,
        _ if ip.is_broadcast() || ip.is_documentation() || a >= 240 => AddressClass::Reserved,
        (198, 18..=19, _) | (192, 0, 0) => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let first = ip.segments()[0];
    match first {
        _ if ip.is_unspecified() => AddressClass::Unspecified,
        _ if ip.is_loopback() => AddressClass::Loopback,
        _ if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 => AddressClass::Private,
        _ if first & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        _ if ip.is_multicast() => AddressClass::Multicast,
        0x2001 if ip.segments()[1] == 0x0db8 => AddressClass::Reserved,
        // Only global unicast (2000::/3) is public.
        _ if first & 0xe000 != 0x2000 => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    // ::a.b.c.d, but not :: and ::1 themselves.
    let compatible = s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (mapped || compatible || nat64).then_some(tail)
}

/// Whether a delivery may connect to `ip`.
pub fn is_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match classify(ip) {
        AddressClass::Public => true,
        AddressClass::Loopback => allow_loopback,
        _ => false,
    }
}

type Lookup = dyn Fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>
    + Send
    + Sync;

/// How names become addresses: the system resolver, or a fixed table in tests.
#[derive(Clone)]
pub struct NameLookup(Arc<Lookup>);

impl fmt::Debug for NameLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameLookup")
    }
}

impl Default for NameLookup {
    /// The system resolver.
    fn default() -> Self {
        Self(Arc::new(|name: String| {
            Box::pin(async move {
                let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
                Ok(addrs.map(|a| a.ip()).collect())
            })
        }))
    }
}

impl NameLookup {
    /// A fixed, changeable table (tests): a name missing from it does not resolve.
    pub fn table(table: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>) -> Self {
        Self(Arc::new(move |name: String| {
            let found = table
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&name)
                .cloned();
            Box::pin(async move {
                found.ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "unknown name")
                })
            })
        }))
    }

    async fn lookup(&self, name: &str) -> std::io::Result<Vec<IpAddr>> {
        (self.0)(name.to_owned()).await
    }
}

/// The addresses of a URL's host, all allowed, or the generic refusal.
pub async fn checked_addresses(
    host: &url::Host<&str>,
    lookup: &NameLookup,
    allow_loopback: bool,
) -> Result<Vec<IpAddr>, &'static str> {
    let addresses = match host {
        url::Host::Ipv4(ip) => vec![IpAddr::V4(*ip)],
        url::Host::Ipv6(ip) => vec![IpAddr::V6(*ip)],
        url::Host::Domain(name) => lookup.lookup(name).await.map_err(|_| NOT_ALLOWED)?,
    };
    // Refuse when any address is not allowed: a name mixing public and internal addresses is
    // a rebinding attempt, not a receiver.
    if addresses.is_empty() || !addresses.iter().all(|ip| is_allowed(*ip, allow_loopback)) {
        return Err(NOT_ALLOWED);
    }
    Ok(addresses)
}

/// reqwest's resolver for deliveries: resolves with the [`NameLookup`] and hands reqwest only
/// addresses that passed the check, so the connection goes where the check looked.
pub struct CheckedResolver {
    pub lookup: NameLookup,
    pub allow_loopback: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup.clone();
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = url::Host::Domain(name.as_str());
            let addresses = checked_addresses(&host, &lookup, allow_loopback).await?;
            let addrs: Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_class_is_recognised_in_every_form() {
        use AddressClass::*;
        let table: &[(&str, AddressClass)] = &[
            ("93.184.216.34", Public),
            ("2606:4700:4700::1111", Public),
            ("127.0.0.1", Loopback),
            ("127.8.9.10", Loopback),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("10.0.0.5", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("fd12:3456::1", Private),
            ("fc00::1", Private),
            ("fec0::1", Private),
            ("::ffff:10.1.2.3", Private),
            ("64:ff9b::192.168.0.1", Private),
            ("::10.0.0.1", Private),
            ("169.254.169.254", LinkLocal),
            ("fe80::1", LinkLocal),
            ("::ffff:169.254.169.254", LinkLocal),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.254", SharedAddressSpace),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("ff02::1", Multicast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("255.255.255.255", Reserved),
            ("240.0.0.1", Reserved),
            ("192.0.2.10", Reserved),
            ("198.18.0.1", Reserved),
            ("2001:db8::1", Reserved),
            ("100.128.0.1", Public),
            ("172.32.0.1", Public),
        ];
        for (literal, class) in table {
            let ip: IpAddr = literal.parse().unwrap();
            assert_eq!(classify(ip), *class, "{literal}");
            assert_eq!(is_allowed(ip, false), *class == Public, "{literal}");
        }
        assert!(is_allowed("127.0.0.1".parse().unwrap(), true));
        assert!(is_allowed("::ffff:127.0.0.1".parse().unwrap(), true));
        assert!(
            !is_allowed("10.0.0.1".parse().unwrap(), true),
            "only loopback is for development"
        );
    }

    #[tokio::test]
    async fn names_are_checked_by_every_address_they_resolve_to() {
        let table = Arc::new(Mutex::new(HashMap::from([
            (
                "receiver.example".to_owned(),
                vec!["93.184.216.34".parse().unwrap()],
            ),
            (
                "metadata.example".to_owned(),
                vec!["169.254.169.254".parse().unwrap()],
            ),
            (
                "intranet.example".to_owned(),
                vec!["10.0.0.5".parse().unwrap()],
            ),
            (
                "mixed.example".to_owned(),
                vec![
                    "93.184.216.34".parse().unwrap(),
                    "127.0.0.1".parse().unwrap(),
                ],
            ),
            (
                "mapped.example".to_owned(),
                vec!["::ffff:192.168.0.1".parse().unwrap()],
            ),
            ("nothing.example".to_owned(), vec![]),
        ])));
        let lookup = NameLookup::table(table.clone());
        let check = |name: &'static str| {
            let lookup = lookup.clone();
            async move { checked_addresses(&url::Host::Domain(name), &lookup, false).await }
        };
        assert!(check("receiver.example").await.is_ok());
        for refused in [
            "metadata.example",
            "intranet.example",
            "mixed.example",
            "mapped.example",
            "nothing.example",
            "unknown.example",
        ] {
            assert_eq!(check(refused).await, Err(NOT_ALLOWED), "{refused}");
        }
        // Rebinding: the same name, another answer, another verdict.
        table.lock().unwrap().insert(
            "receiver.example".into(),
            vec!["127.0.0.1".parse().unwrap()],
        );
        assert_eq!(check("receiver.example").await, Err(NOT_ALLOWED));
    }
}
