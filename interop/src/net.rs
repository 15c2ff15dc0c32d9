//! str0m endpoints on real loopback UDP sockets, driven by one virtual clock.
//!
//! str0m is sans-IO: it only knows the `Instant`s it is given. Every endpoint is drained to its
//! `Output::Timeout` after each mutation (str0m's single-mutation rule); when no datagram is
//! waiting anywhere, the clock jumps to the earliest deadline (of an endpoint, or of the next
//! media frame), so a call of minutes runs in a fraction of that.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};

/// The longest jump of the virtual clock: an idle `Rtc` may ask to be woken in a century.
const MAX_STEP: Duration = Duration::from_millis(10);

/// One str0m `Rtc` and its UDP socket.
pub struct Endpoint {
    /// The name in messages.
    pub name: String,
    /// The WebRTC stack.
    pub rtc: Rtc,
    sock: UdpSocket,
    addr: SocketAddr,
    /// When it wants `Input::Timeout` next.
    pub deadline: Instant,
    /// Events not yet taken by the application.
    pub events: Vec<Event>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint on `127.0.0.1:0` whose host candidate is added before any offer is made
    /// (so it travels in the SDP).
    ///
    /// # Panics
    ///
    /// If the socket cannot be bound.
    #[must_use]
    pub fn new(name: &str, config: RtcConfig, now: Instant) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_nonblocking(true).expect("nonblocking");
        let addr = sock.local_addr().expect("local addr");
        let mut rtc = config.build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("candidate"));
        let mut ep = Self {
            name: name.to_owned(),
            rtc,
            sock,
            addr,
            deadline: now,
            events: Vec::new(),
            buf: vec![0; 2000],
        };
        ep.drain();
        ep
    }

    /// Drains `poll_output` to its timeout: datagrams go out, events are kept.
    ///
    /// # Panics
    ///
    /// If str0m reports an error.
    pub fn drain(&mut self) {
        loop {
            match self
                .rtc
                .poll_output()
                .unwrap_or_else(|e| panic!("{}: {e}", self.name))
            {
                Output::Timeout(t) => {
                    self.deadline = t;
                    return;
                }
                Output::Transmit(t) => {
                    // Loopback: a full socket buffer would be loss, which str0m survives.
                    let _ = self.sock.send_to(&t.contents, t.destination);
                }
                Output::Event(e) => self.events.push(e),
            }
        }
    }

    /// Feeds every waiting datagram, draining after each. Returns how many there were.
    ///
    /// # Panics
    ///
    /// If str0m refuses a datagram.
    pub fn receive(&mut self, now: Instant) -> usize {
        let mut n = 0;
        loop {
            match self.sock.recv_from(&mut self.buf) {
                Ok((len, source)) => {
                    n += 1;
                    let Ok(r) = Receive::new(Protocol::Udp, source, self.addr, &self.buf[..len])
                    else {
                        continue;
                    };
                    self.rtc
                        .handle_input(Input::Receive(now, r))
                        .unwrap_or_else(|e| panic!("{}: {e}", self.name));
                    self.drain();
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return n,
                Err(e) => panic!("{}: {e}", self.name),
            }
        }
    }

    /// Hands str0m the time.
    ///
    /// # Panics
    ///
    /// If str0m reports an error.
    pub fn tick(&mut self, now: Instant) {
        self.rtc
            .handle_input(Input::Timeout(now))
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        self.drain();
    }
}

/// The virtual clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Now.
    pub now: Instant,
    /// When the call started.
    pub start: Instant,
}

impl Clock {
    /// Starts at the real now (str0m anchors its NTP conversion on it once).
    #[must_use]
    pub fn new() -> Self {
        let now = Instant::now();
        Self { now, start: now }
    }

    /// Milliseconds since the start.
    #[must_use]
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.now.duration_since(self.start).as_millis()).unwrap_or(u64::MAX)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// One turn of the network: every endpoint reads what is waiting; when nothing was (after one
/// yield, for a datagram still in the kernel), the clock moves to the earliest deadline, at
/// most `until`, and every endpoint is ticked. Returns false once the clock is at `until` and
/// nothing moved.
pub fn turn(endpoints: &mut [&mut Endpoint], clock: &mut Clock, until: Instant) -> bool {
    let mut received = 0;
    for ep in endpoints.iter_mut() {
        received += ep.receive(clock.now);
    }
    if received > 0 {
        return true;
    }
    std::thread::yield_now();
    for ep in endpoints.iter_mut() {
        received += ep.receive(clock.now);
    }
    if received > 0 {
        return true;
    }
    let earliest = endpoints
        .iter()
        .map(|e| e.deadline)
        .min()
        .unwrap_or(until)
        .min(until)
        .min(clock.now + MAX_STEP);
    let moved = earliest > clock.now;
    if moved {
        clock.now = earliest;
    }
    for ep in endpoints.iter_mut() {
        if ep.deadline <= clock.now {
            ep.tick(clock.now);
        }
    }
    moved || clock.now < until
}

/// Runs the network until `until` (virtual).
pub fn run_until(endpoints: &mut [&mut Endpoint], clock: &mut Clock, until: Instant) {
    while turn(endpoints, clock, until) {
        if clock.now >= until {
            // Deliver what is in flight at `until`, then stop.
            let mut more = true;
            while more {
                more = false;
                for ep in endpoints.iter_mut() {
                    more |= ep.receive(clock.now) > 0;
                }
            }
            return;
        }
    }
}
