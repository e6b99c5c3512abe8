//! The SSRF guard: which addresses the crawler may connect to, and a DNS resolver that enforces it.
//!
//! A website given by a user must not make the server fetch its own loopback, the private network or a
//! cloud metadata endpoint. The check runs on resolved addresses (so a name pointing at 10.0.0.1 is caught)
//! inside the HTTP client's resolver (so what is checked is what is connected to, with no window for DNS
//! rebinding), and on IP-literal hosts, which never reach a resolver, before every request and redirect.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Environment variable listing the CIDRs the crawler may fetch although they are private or loopback.
pub const ALLOW_ENV: &str = "DIALTONE_CRAWL_ALLOW";

/// An IP network, `10.0.0.0/8` or `::1/128`; a bare address is a single-host network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether the address is inside the network. IPv4 networks also hold the IPv4-mapped IPv6 form.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8, bits: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix.min(bits));
    (a >> shift) == (b >> shift)
}

impl FromStr for Cidr {
    type Err = AllowListError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| AllowListError {
            entry: s.to_owned(),
            reason: reason.to_owned(),
        };
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| bad("not an IP address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad(&format!("the prefix length must be 0..={max}")))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A `DIALTONE_CRAWL_ALLOW` entry that is not a CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ALLOW_ENV}: {entry:?} is not a CIDR such as 127.0.0.0/8: {reason}")]
pub struct AllowListError {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Which addresses may be fetched: every public address, plus the allow-listed private ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<Cidr>,
}

impl AddressPolicy {
    /// Public addresses only (the default).
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Public addresses and those in `allow`.
    pub fn with_allow(allow: Vec<Cidr>) -> Self {
        Self { allow }
    }

    /// Parses the `DIALTONE_CRAWL_ALLOW` format: CIDRs separated by commas (spaces ignored; empty = none).
    pub fn parse_allow_list(list: &str) -> Result<Self, AllowListError> {
        let allow = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { allow })
    }

    /// The allow-listed networks.
    pub fn allowed(&self) -> &[Cidr] {
        &self.allow
    }

    /// Whether the crawler may connect to the address.
    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_special(ip) || self.allow.iter().any(|c| c.contains(ip))
    }
}

/// IPv4-mapped and IPv4-compatible IPv6 addresses as the IPv4 address they carry: the kernel connects
/// `::ffff:127.0.0.1` to loopback, so it must be judged as 127.0.0.1.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Loopback, private, link-local (metadata at 169.254.169.254), shared, reserved, documentation,
/// multicast and unspecified addresses: none of them is a business website on the internet.
pub fn is_special(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    const RANGES: &[(u32, u8)] = &[
        (0x0000_0000, 8),  // 0.0.0.0/8 "this network"; 0.0.0.0 reaches the host itself
        (0x0A00_0000, 8),  // 10/8 private
        (0x6440_0000, 10), // 100.64/10 carrier-grade NAT; also Alibaba's metadata 100.100.100.200
        (0x7F00_0000, 8),  // 127/8 loopback
        (0xA9FE_0000, 16), // 169.254/16 link-local, cloud metadata
        (0xAC10_0000, 12), // 172.16/12 private
        (0xC000_0000, 24), // 192.0.0/24 IETF protocol assignments
        (0xC000_0200, 24), // 192.0.2/24 documentation
        (0xC058_6300, 24), // 192.88.99/24 deprecated 6to4 relay
        (0xC0A8_0000, 16), // 192.168/16 private
        (0xC612_0000, 15), // 198.18/15 benchmarking
        (0xC633_6400, 24), // 198.51.100/24 documentation
        (0xCB00_7100, 24), // 203.0.113/24 documentation
        (0xE000_0000, 4),  // 224/4 multicast
        (0xF000_0000, 4),  // 240/4 reserved and broadcast
    ];
    let ip = u32::from(ip);
    RANGES
        .iter()
        .any(|&(net, prefix)| prefix_eq(net.into(), ip.into(), prefix, 32))
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    const RANGES: &[(u128, u8)] = &[
        (0, 128),                                        // :: unspecified
        (1, 128),                                        // ::1 loopback
        (0, 96),                                         // ::/96 IPv4-compatible (deprecated)
        (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96), // NAT64: checked through its IPv4 below
        (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // local-use NAT64
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // discard-only
        (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // IETF protocol assignments, Teredo
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
        (0x2002_0000_0000_0000_0000_0000_0000_0000, 16), // 6to4: checked through its IPv4 below
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // unique local, incl. AWS fd00:ec2::254
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // link-local
        (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // site-local (deprecated)
        (0xff00_0000_0000_0000_0000_0000_0000_0000, 8),  // multicast
    ];
    let bits = u128::from(ip);
    // NAT64 and 6to4 carry an IPv4 address that the gateway will connect to: judge that one.
    let nat64 = 0x0064_ff9b_u128 << 96;
    if prefix_eq(bits, nat64, 96, 128) {
        // The low 32 bits are the IPv4 address, so the truncation is exact.
        return is_special_v4(Ipv4Addr::from(bits as u32));
    }
    if prefix_eq(bits, 0x2002_u128 << 112, 16, 128) {
        // Bits 16..48 are the IPv4 address; the mask makes the truncation exact.
        return is_special_v4(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    RANGES
        .iter()
        .any(|&(net, prefix)| prefix_eq(net, bits, prefix, 128))
}

/// Why a name could not be turned into addresses the crawler may use.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The lookup failed: no such name, or no DNS answer in time.
    #[error("could not resolve {host}")]
    Lookup {
        /// The name looked up.
        host: String,
    },
    /// Every address of the name is one the policy refuses.
    #[error("{host} resolves only to addresses the crawler may not fetch ({addr})")]
    Blocked {
        /// The name looked up.
        host: String,
        /// The first refused address.
        addr: IpAddr,
    },
}

/// Resolves with the system resolver, then keeps only the addresses the policy permits.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
    timeout: Duration,
}

impl GuardedResolver {
    /// A resolver for the policy; a lookup that takes longer than `timeout` fails.
    pub fn new(policy: Arc<AddressPolicy>, timeout: Duration) -> Self {
        Self { policy, timeout }
    }

    /// The permitted addresses of `host` (port 0, which the HTTP client replaces with the URL's).
    pub async fn lookup(&self, host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let lookup = tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, 0))).await;
        let found: Vec<SocketAddr> = match lookup {
            Ok(Ok(addrs)) => addrs.collect(),
            Ok(Err(_)) | Err(_) => Vec::new(),
        };
        if found.is_empty() {
            tracing::debug!(%host, "dns lookup failed");
            return Err(ResolveError::Lookup {
                host: host.to_owned(),
            });
        }
        let permitted: Vec<SocketAddr> = found
            .iter()
            .copied()
            .filter(|a| self.policy.permits(a.ip()))
            .collect();
        if permitted.is_empty() {
            tracing::debug!(%host, addr = %found[0].ip(), "dns answer refused by the address policy");
            return Err(ResolveError::Blocked {
                host: host.to_owned(),
                addr: found[0].ip(),
            });
        }
        Ok(permitted)
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = this.lookup(&host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_ipv4_ranges_are_refused() {
        let policy = AddressPolicy::public_only();
        for s in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.100.100.200",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.2.10",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!policy.permits(ip(s)), "{s} must be refused");
        }
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "11.0.0.1",
        ] {
            assert!(policy.permits(ip(s)), "{s} must be permitted");
        }
    }

    #[test]
    fn special_ipv6_ranges_and_embedded_ipv4_are_refused() {
        let policy = AddressPolicy::public_only();
        for s in [
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!policy.permits(ip(s)), "{s} must be refused");
        }
        for s in [
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(policy.permits(ip(s)), "{s} must be permitted");
        }
    }

    #[test]
    fn allow_list_admits_listed_networks_only() {
        let policy = AddressPolicy::parse_allow_list(" 127.0.0.0/8, ::1 ,10.1.0.0/16,").unwrap();
        assert_eq!(policy.allowed().len(), 3);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("::ffff:127.0.0.1")));
        assert!(policy.permits(ip("::1")));
        assert!(policy.permits(ip("10.1.200.3")));
        assert!(!policy.permits(ip("10.2.0.1")));
        assert!(!policy.permits(ip("169.254.169.254")));
        assert!(!policy.permits(ip("192.168.0.1")));
        assert_eq!(
            AddressPolicy::parse_allow_list("").unwrap(),
            AddressPolicy::public_only()
        );
        let all = AddressPolicy::parse_allow_list("0.0.0.0/0").unwrap();
        assert!(all.permits(ip("169.254.169.254")));
        assert!(!all.permits(ip("::1")));
    }

    #[test]
    fn allow_list_errors_name_the_entry() {
        for bad in [
            "localhost",
            "10.0.0.0/33",
            "::1/129",
            "10.0.0.0/x",
            "1.2.3/8",
        ] {
            let list = format!("127.0.0.0/8,{bad}");
            let err = AddressPolicy::parse_allow_list(&list).unwrap_err();
            assert_eq!(err.entry, bad);
            assert!(err.to_string().contains(ALLOW_ENV));
        }
    }

    #[test]
    fn cidr_contains_with_edge_prefixes() {
        let c: Cidr = "192.168.4.0/22".parse().unwrap();
        assert!(c.contains(ip("192.168.7.255")));
        assert!(!c.contains(ip("192.168.8.0")));
        assert!(!c.contains(ip("::1")));
        let one: Cidr = "[::1]".parse().unwrap();
        assert_eq!(one.to_string(), "::1/128");
        assert!(one.contains(ip("::1")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
    }

    #[tokio::test]
    async fn resolver_refuses_localhost_unless_allowed() {
        let refused = GuardedResolver::new(
            Arc::new(AddressPolicy::public_only()),
            Duration::from_secs(5),
        );
        match refused.lookup("localhost").await {
            Err(ResolveError::Blocked { host, .. }) => assert_eq!(host, "localhost"),
            other => panic!("expected Blocked, got {other:?}"),
        }
        let allowed = GuardedResolver::new(
            Arc::new(AddressPolicy::parse_allow_list("127.0.0.0/8").unwrap()),
            Duration::from_secs(5),
        );
        let addrs = allowed.lookup("localhost").await.unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.is_ipv4()));
    }

    #[tokio::test]
    async fn resolver_reports_unknown_names() {
        let r = GuardedResolver::new(
            Arc::new(AddressPolicy::public_only()),
            Duration::from_secs(5),
        );
        assert!(matches!(
            r.lookup("no-such-host.invalid").await,
            Err(ResolveError::Lookup { .. })
        ));
    }
}
