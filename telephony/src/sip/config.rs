//! SIP settings: where to listen, which RTP ports, how many calls, codec preference, and the trunks and
//! peers calls may come from. Read from the `[sip]` table of a TOML file; `dialtone serve` flags
//! override the listen address.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::sdp::CodecName;

/// Everything the SIP side is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// Address the SIP UDP socket binds.
    pub listen: SocketAddr,
    /// Address put in SDP and Contact when it differs from the bound one (behind 1:1 NAT, or when
    /// listening on 0.0.0.0).
    pub public_ip: Option<IpAddr>,
    /// RTP ports, `"20000-20999"`; each call takes an even port and the odd one above it for RTCP.
    pub rtp_ports: PortRange,
    /// Most calls at once; beyond it new INVITEs are refused with `at_capacity`.
    pub max_calls: usize,
    /// Status for an INVITE over capacity: 503 (another node may take it) or 486 (busy).
    pub at_capacity: u16,
    /// No RTP from the caller for this many seconds (outside hold) ends the call.
    pub media_timeout_secs: u64,
    /// Ring this long (180 Ringing) before answering; 0 answers at once.
    pub ring_ms: u64,
    /// Codec preference, best first, for agents that name none.
    pub codecs: Vec<CodecName>,
    /// Take INVITEs from any address without authentication. For tests and development only.
    pub accept_any: bool,
    /// Digest realm we challenge peers with.
    pub realm: String,
    /// Trunks: carriers or PBXs we register with, place calls through and take calls from.
    pub trunks: Vec<TrunkConfig>,
    /// Peers that may call in by authenticating with digest (PBX extensions, softphones).
    pub users: Vec<UserConfig>,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
            public_ip: None,
            rtp_ports: PortRange(20_000..=29_999),
            max_calls: 500,
            at_capacity: 503,
            media_timeout_secs: 30,
            ring_ms: 0,
            codecs: CodecName::DEFAULT_PREFERENCE.to_vec(),
            accept_any: false,
            realm: "dialtone".into(),
            trunks: Vec::new(),
            users: Vec::new(),
        }
    }
}

impl SipConfig {
    /// The `[sip]` table of the TOML file at `path` (a file without one gives the defaults).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(e.to_string()))?;
        Self::from_toml(&text)
    }

    /// The `[sip]` table of TOML `text`.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            sip: Option<SipConfig>,
        }
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        let config = file.sip.unwrap_or_default();
        config.check()?;
        Ok(config)
    }

    /// Checks what serde cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !matches!(self.at_capacity, 486 | 503) {
            return Err(ConfigError::Invalid(
                "at_capacity must be 486 or 503".into(),
            ));
        }
        if self.codecs.is_empty() {
            return Err(ConfigError::Invalid("codecs must name at least one".into()));
        }
        if self.rtp_ports.pairs() == 0 {
            return Err(ConfigError::Invalid(
                "rtp_ports must hold an even port and the one above it".into(),
            ));
        }
        for trunk in &self.trunks {
            for net in &trunk.addresses {
                Cidr::parse(net)
                    .map_err(|e| ConfigError::Invalid(format!("trunk {}: {e}", trunk.name)))?;
            }
        }
        Ok(())
    }

    /// The media timeout.
    pub fn media_timeout(&self) -> Duration {
        Duration::from_secs(self.media_timeout_secs.max(1))
    }
}

/// A SIP trunk.
#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TrunkConfig {
    /// Name, for logs and `place_call`.
    pub name: String,
    /// Registrar URI (`sip:sip.example.com`) to REGISTER with; none for IP-authenticated trunks.
    pub registrar: Option<String>,
    /// Where outbound INVITEs go (`sip:sip.example.com:5060`); defaults to the registrar.
    pub proxy: Option<String>,
    /// Outbound proxy every request to the trunk is sent through (`203.0.113.1:5060`).
    pub outbound_proxy: Option<SocketAddr>,
    /// Digest username (and the user part of our address of record).
    pub username: Option<String>,
    /// Digest password.
    pub password: Option<String>,
    /// Digest authentication id, when the trunk's differs from `username`.
    pub auth_username: Option<String>,
    /// Caller id for outbound calls (E.164); defaults to `username`.
    pub from: Option<String>,
    /// Source addresses or networks (`203.0.113.0/24`) whose INVITEs are taken as this trunk's.
    pub addresses: Vec<String>,
    /// Registration lifetime asked for, seconds.
    pub register_expires: Option<u32>,
}

/// Passwords stay out of logs.
impl fmt::Debug for TrunkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrunkConfig")
            .field("name", &self.name)
            .field("registrar", &self.registrar)
            .field("proxy", &self.proxy)
            .field("outbound_proxy", &self.outbound_proxy)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<secret>"))
            .field("addresses", &self.addresses)
            .finish()
    }
}

/// A peer that authenticates with digest.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Digest username.
    pub username: String,
    /// Digest password.
    pub password: String,
}

impl fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// An inclusive range of UDP ports, written `"20000-29999"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRange(pub RangeInclusive<u16>);

impl PortRange {
    /// How many (RTP, RTCP) pairs fit.
    pub fn pairs(&self) -> usize {
        let first = u32::from(*self.0.start()).next_multiple_of(2);
        let last = u32::from(*self.0.end());
        if first + 1 > last {
            return 0;
        }
        ((last - first - 1) / 2 + 1) as usize
    }

    /// The RTP (even) port of pair `index`.
    pub fn port(&self, index: usize) -> u16 {
        let first = u32::from(*self.0.start()).next_multiple_of(2);
        (first + 2 * index as u32).min(u32::from(u16::MAX) - 1) as u16
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let (a, b) = text
            .split_once('-')
            .ok_or_else(|| serde::de::Error::custom("expected FIRST-LAST"))?;
        let a: u16 = a.trim().parse().map_err(serde::de::Error::custom)?;
        let b: u16 = b.trim().parse().map_err(serde::de::Error::custom)?;
        if a > b || a == 0 {
            return Err(serde::de::Error::custom(
                "expected FIRST-LAST, FIRST <= LAST",
            ));
        }
        Ok(Self(a..=b))
    }
}

/// An address or network (`192.0.2.7`, `203.0.113.0/24`, `2001:db8::/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::Invalid(format!("`{text}` is not an address or network"));
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { network, prefix })
    }

    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the SIP configuration: {0}")]
    Read(String),
    /// Not valid TOML, or a field of the wrong type.
    #[error("bad SIP configuration: {0}")]
    Parse(String),
    /// A value out of range.
    #[error("bad SIP configuration: {0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_parses() {
        let config = SipConfig::from_toml(
            r#"
            [sip]
            listen = "127.0.0.1:5070"
            rtp_ports = "30000-30009"
            max_calls = 2
            at_capacity = 486
            codecs = ["PCMA", "opus"]

            [[sip.trunks]]
            name = "carrier"
            registrar = "sip:127.0.0.1:5080"
            username = "dialtone"
            password = "hunter2"
            addresses = ["203.0.113.0/24", "192.0.2.7"]

            [[sip.users]]
            username = "alice"
            password = "wonderland"
            "#,
        )
        .unwrap();
        assert_eq!(
            config.listen,
            "127.0.0.1:5070".parse::<std::net::SocketAddr>().unwrap()
        );
        assert_eq!(config.rtp_ports.pairs(), 5);
        assert_eq!(config.codecs, [CodecName::Pcma, CodecName::Opus]);
        assert_eq!(config.trunks[0].addresses.len(), 2);
        assert!(!format!("{:?}", config).contains("hunter2"));
        assert!(!format!("{:?}", config).contains("wonderland"));
        assert!(!config.accept_any);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(SipConfig::from_toml("[sip]\nat_capacity = 404").is_err());
        assert!(SipConfig::from_toml("[sip]\nrtp_ports = \"10-5\"").is_err());
        assert!(SipConfig::from_toml("[sip]\nrtp_ports = \"4001-4001\"").is_err());
        assert!(SipConfig::from_toml("[sip]\ncodecs = [\"G729\"]").is_err());
        assert!(SipConfig::from_toml("[sip]\nnope = 1").is_err());
        let trunk = "[sip]\n[[sip.trunks]]\nname = \"x\"\naddresses = [\"300.1.1.1\"]";
        assert!(SipConfig::from_toml(trunk).is_err());
        assert!(SipConfig::from_toml("").unwrap().trunks.is_empty());
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(net.contains("203.0.113.99".parse().unwrap()));
        assert!(!net.contains("203.0.114.1".parse().unwrap()));
        assert!(
            Cidr::parse("192.0.2.7")
                .unwrap()
                .contains("192.0.2.7".parse().unwrap())
        );
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
        assert!(
            !Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("192.0.2.1".parse().unwrap())
        );
    }
}
