//! Who may call in: INVITEs from a configured trunk's addresses, from peers that pass a digest
//! challenge (RFC 2617/8760 over SIP), or from anyone when the configuration says so outright.
//! Nonces are stateless: a timestamp and a keyed hash of it, so any number of challenges cost nothing
//! to remember.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rsipstack::dialog::authenticate::verify_digest;
use rsipstack::sip::{Header, Request};
use sha2::{Digest, Sha256};

use super::config::{Cidr, SipConfig};

/// How long a nonce we issued stays good.
const NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// What to do with an INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Take it; from this trunk, when it came from one.
    Allow {
        /// The trunk's name.
        trunk: Option<String>,
    },
    /// Challenge it (401 with this `WWW-Authenticate` value).
    Challenge(String),
    /// Refuse it (403).
    Forbid,
}

/// The access rules, built once from configuration.
#[derive(Debug, Clone)]
pub struct Access {
    accept_any: bool,
    realm: String,
    trunks: Vec<(String, Vec<Cidr>)>,
    users: Vec<(String, String)>,
    secret: [u8; 32],
}

impl Access {
    /// Rules from `config`, with `secret` keying the nonces (random per process).
    pub fn new(config: &SipConfig, trunk_ips: &[(String, IpAddr)], secret: [u8; 32]) -> Self {
        let mut trunks: Vec<(String, Vec<Cidr>)> = config
            .trunks
            .iter()
            .map(|t| {
                let nets = t
                    .addresses
                    .iter()
                    .filter_map(|a| Cidr::parse(a).ok())
                    .collect();
                (t.name.clone(), nets)
            })
            .collect();
        // A trunk's registrar and proxy may send us its calls too.
        for (name, ip) in trunk_ips {
            if let Some((_, nets)) = trunks.iter_mut().find(|(n, _)| n == name)
                && let Ok(net) = Cidr::parse(&ip.to_string())
            {
                nets.push(net);
            }
        }
        Self {
            accept_any: config.accept_any,
            realm: config.realm.clone(),
            trunks,
            users: config
                .users
                .iter()
                .map(|u| (u.username.clone(), u.password.clone()))
                .collect(),
            secret,
        }
    }

    /// Judges `request`, which came from `source`, at `now`.
    pub fn check(&self, request: &Request, source: Option<IpAddr>, now: SystemTime) -> Verdict {
        if let Some(ip) = source
            && let Some((name, _)) = self
                .trunks
                .iter()
                .find(|(_, nets)| nets.iter().any(|n| n.contains(ip)))
        {
            return Verdict::Allow {
                trunk: Some(name.clone()),
            };
        }
        if self.accept_any {
            return Verdict::Allow { trunk: None };
        }
        if self.users.is_empty() {
            return Verdict::Forbid;
        }
        if self.authenticated(request, now) {
            return Verdict::Allow { trunk: None };
        }
        Verdict::Challenge(self.challenge(now))
    }

    /// A `WWW-Authenticate` value with a fresh nonce.
    pub fn challenge(&self, now: SystemTime) -> String {
        format!(
            "Digest realm=\"{}\", nonce=\"{}\", algorithm=MD5, qop=\"auth\"",
            self.realm,
            self.nonce(unix_secs(now))
        )
    }

    fn nonce(&self, issued: u64) -> String {
        let mut hash = Sha256::new();
        hash.update(self.secret);
        hash.update(issued.to_be_bytes());
        let mac = hash.finalize();
        let hex: String = mac.iter().take(12).map(|b| format!("{b:02x}")).collect();
        format!("{issued:x}.{hex}")
    }

    fn nonce_is_fresh(&self, nonce: &str, now: SystemTime) -> bool {
        let Some((issued, _)) = nonce.split_once('.') else {
            return false;
        };
        let Ok(issued) = u64::from_str_radix(issued, 16) else {
            return false;
        };
        let age = unix_secs(now).saturating_sub(issued);
        age <= NONCE_LIFETIME.as_secs() && self.nonce(issued) == nonce
    }

    fn authenticated(&self, request: &Request, now: SystemTime) -> bool {
        request.headers.iter().any(|h| {
            let Header::Authorization(header) = h else {
                return false;
            };
            let Ok(auth) = rsipstack::sip::typed::Authorization::parse(header.value()) else {
                return false;
            };
            if auth.realm != self.realm || !self.nonce_is_fresh(&auth.nonce, now) {
                return false;
            }
            self.users.iter().any(|(user, password)| {
                *user == auth.username
                    && verify_digest(&auth, password, &request.method, header.value())
            })
        })
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::config::{TrunkConfig, UserConfig};
    use rsipstack::dialog::authenticate::compute_digest;
    use rsipstack::sip::headers::auth::{Algorithm, AuthQop};

    fn invite(auth: Option<String>) -> Request {
        let mut text = String::from(
            "INVITE sip:+15035550142@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n\
From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:+15035550142@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n",
        );
        if let Some(a) = auth {
            text.push_str(&format!("Authorization: {a}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        Request::try_from(text.as_str()).unwrap()
    }

    fn access(accept_any: bool) -> Access {
        let config = SipConfig {
            accept_any,
            trunks: vec![TrunkConfig {
                name: "carrier".into(),
                addresses: vec!["203.0.113.0/24".into()],
                ..TrunkConfig::default()
            }],
            users: vec![UserConfig {
                username: "alice".into(),
                password: "wonderland".into(),
            }],
            ..SipConfig::default()
        };
        Access::new(
            &config,
            &[("carrier".into(), "192.0.2.1".parse().unwrap())],
            [7; 32],
        )
    }

    #[test]
    fn trunks_pass_strangers_are_challenged() {
        let now = SystemTime::now();
        let a = access(false);
        let from_trunk = a.check(&invite(None), Some("203.0.113.9".parse().unwrap()), now);
        assert_eq!(
            from_trunk,
            Verdict::Allow {
                trunk: Some("carrier".into())
            }
        );
        let from_registrar = a.check(&invite(None), Some("192.0.2.1".parse().unwrap()), now);
        assert_eq!(
            from_registrar,
            Verdict::Allow {
                trunk: Some("carrier".into())
            }
        );
        let stranger = a.check(&invite(None), Some("198.51.100.1".parse().unwrap()), now);
        assert!(matches!(stranger, Verdict::Challenge(c) if c.contains("realm=\"dialtone\"")));
        assert_eq!(
            access(true).check(&invite(None), None, now),
            Verdict::Allow { trunk: None }
        );
        let no_users = Access::new(&SipConfig::default(), &[], [0; 32]);
        assert_eq!(no_users.check(&invite(None), None, now), Verdict::Forbid);
    }

    #[test]
    fn a_correct_digest_passes_and_a_wrong_or_stale_one_does_not() {
        let now = SystemTime::now();
        let a = access(false);
        let nonce = a.nonce(unix_secs(now));
        let uri = "sip:+15035550142@127.0.0.1";
        let qop = AuthQop::Auth {
            cnonce: "abc".into(),
            nc: 1,
        };
        let header = |password: &str, nonce: &str| {
            let response = compute_digest(
                "alice",
                password,
                "dialtone",
                nonce,
                &rsipstack::sip::Method::Invite,
                uri,
                Algorithm::Md5,
                Some(&qop),
            );
            format!(
                "Digest username=\"alice\", realm=\"dialtone\", nonce=\"{nonce}\", uri=\"{uri}\", \
                 response=\"{response}\", algorithm=MD5, qop=auth, cnonce=\"abc\", nc=00000001"
            )
        };
        let stranger = Some("198.51.100.1".parse().unwrap());
        let good = invite(Some(header("wonderland", &nonce)));
        assert_eq!(
            a.check(&good, stranger, now),
            Verdict::Allow { trunk: None }
        );
        let wrong = invite(Some(header("looking-glass", &nonce)));
        assert!(matches!(
            a.check(&wrong, stranger, now),
            Verdict::Challenge(_)
        ));
        let old = a.nonce(unix_secs(now) - 3600);
        let stale = invite(Some(header("wonderland", &old)));
        assert!(matches!(
            a.check(&stale, stranger, now),
            Verdict::Challenge(_)
        ));
        let forged = invite(Some(header("wonderland", "1.deadbeef")));
        assert!(matches!(
            a.check(&forged, stranger, now),
            Verdict::Challenge(_)
        ));
    }
}
