//! RTP port pairs for calls: an even port for RTP and the odd one above it for RTCP, taken round-robin
//! from the configured range and given back when the call's lease drops.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tracing::debug;

use super::config::PortRange;

/// Hands out RTP/RTCP socket pairs from a port range.
#[derive(Debug, Clone)]
pub struct PortPool {
    range: PortRange,
    ip: IpAddr,
    state: Arc<Mutex<PoolState>>,
}

#[derive(Debug)]
struct PoolState {
    next: usize,
    in_use: Vec<bool>,
}

/// A call's RTP and RTCP sockets; the pair returns to the pool when this drops.
#[derive(Debug)]
pub struct PortLease {
    /// The RTP socket (even port).
    pub rtp: UdpSocket,
    /// The RTCP socket (RTP port + 1).
    pub rtcp: UdpSocket,
    index: usize,
    state: Arc<Mutex<PoolState>>,
}

impl PortLease {
    /// The RTP port.
    pub fn port(&self) -> u16 {
        self.rtp.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        // A poisoned lock means a panic elsewhere; the slot is then simply not reused.
        if let Ok(mut state) = self.state.lock()
            && let Some(slot) = state.in_use.get_mut(self.index)
        {
            *slot = false;
        }
    }
}

impl PortPool {
    /// A pool over `range`, binding on `ip`.
    pub fn new(range: PortRange, ip: IpAddr) -> Self {
        let pairs = range.pairs();
        Self {
            range,
            ip,
            state: Arc::new(Mutex::new(PoolState {
                next: 0,
                in_use: vec![false; pairs],
            })),
        }
    }

    /// Binds the next free pair; `None` when every pair is in use or taken by other programs.
    pub async fn lease(&self) -> Option<PortLease> {
        let pairs = self.range.pairs();
        for _ in 0..pairs {
            let index = {
                let mut state = self.state.lock().ok()?;
                let mut found = None;
                for step in 0..pairs {
                    let i = (state.next + step) % pairs;
                    if !state.in_use[i] {
                        found = Some(i);
                        break;
                    }
                }
                let i = found?;
                state.in_use[i] = true;
                state.next = (i + 1) % pairs;
                i
            };
            let port = self.range.port(index);
            let rtp = UdpSocket::bind(SocketAddr::new(self.ip, port)).await;
            let rtcp = UdpSocket::bind(SocketAddr::new(self.ip, port.wrapping_add(1))).await;
            match (rtp, rtcp) {
                (Ok(rtp), Ok(rtcp)) => {
                    return Some(PortLease {
                        rtp,
                        rtcp,
                        index,
                        state: Arc::clone(&self.state),
                    });
                }
                (rtp, rtcp) => {
                    // Another program holds one of the two: free the slot (it is tried again on
                    // the next round) and move on.
                    if let Ok(mut state) = self.state.lock() {
                        state.in_use[index] = false;
                    }
                    debug!(
                        port,
                        rtp_ok = rtp.is_ok(),
                        rtcp_ok = rtcp.is_ok(),
                        "RTP port pair unavailable"
                    );
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_and_come_back() {
        let pool = PortPool::new(PortRange(41_000..=41_003), "127.0.0.1".parse().unwrap());
        let a = pool.lease().await.unwrap();
        let b = pool.lease().await.unwrap();
        assert_eq!(a.port() % 2, 0);
        assert_eq!(a.rtcp.local_addr().unwrap().port(), a.port() + 1);
        assert_ne!(a.port(), b.port());
        assert!(pool.lease().await.is_none(), "two pairs only");
        let freed = a.port();
        drop(a);
        assert_eq!(pool.lease().await.unwrap().port(), freed);
    }
}
