//! Hostile input for SFrame's RTP payload format (feature `rtp`, draft-ietf-avtcore-rtp-sframe):
//! every `PacketizeError` and `DepacketizeError` variant, each from the smallest packets that
//! produce it.

#[cfg(not(feature = "rtp"))]
pub(super) fn rows(_: &mut super::Table) {}

#[cfg(feature = "rtp")]
pub(super) use with_rtp::rows;

#[cfg(feature = "rtp")]
mod with_rtp {
    use secure_frame::rtp::{
        DepacketizeError, Depacketizer, DepacketizerLimits, PacketizeError, Packetizer,
        PayloadOrigin, RtpPacket,
    };

    use super::super::{OK, Table};

    const LIMITS: DepacketizerLimits = DepacketizerLimits {
        reorder_window: 4,
        max_packets_per_frame: 3,
        max_frame_len: 8,
        max_buffered_bytes: 12,
    };

    /// A packet: sequence number, descriptor byte, payload type, timestamp, then `len` bytes.
    fn packet(seq: u16, descriptor: u8, pt: u8, ts: u32, len: usize) -> (u16, u8, u32, Vec<u8>) {
        let mut payload = vec![descriptor];
        payload.resize(1 + len, 0x5a);
        (seq, pt, ts, payload)
    }

    /// Pushes every packet (refusals are returned in order, then what `poll` gives after a
    /// `flush`): the first error of either kind.
    fn first_error(
        packets: &[(u16, u8, u32, Vec<u8>)],
        flush: bool,
    ) -> Result<(), DepacketizeError> {
        let mut rx = Depacketizer::new(LIMITS);
        let mut first = Ok(());
        for (seq, pt, ts, payload) in packets {
            let pushed = rx.push(RtpPacket {
                sequence_number: *seq,
                payload_type: *pt,
                timestamp: *ts,
                marker: false,
                payload,
            });
            if first.is_ok() {
                first = pushed;
            }
            while let Some(out) = rx.poll() {
                if first.is_ok() {
                    first = out.map(drop);
                }
            }
        }
        if flush {
            rx.flush();
        }
        while let Some(out) = rx.poll() {
            if first.is_ok() {
                first = out.map(drop);
            }
        }
        first
    }

    const S: u8 = 0x80;
    const E: u8 = 0x40;
    const T: u8 = 0x20;

    pub(in super::super) fn rows(t: &mut Table) {
        t.row(
            "rtp: payload size 1 (descriptor only)",
            Packetizer::new(1),
            Err(PacketizeError::PayloadSize),
        );
        t.row("rtp: payload size 2", Packetizer::new(2), OK);
        t.row(
            "rtp: empty ciphertext",
            Packetizer::new(2)
                .unwrap()
                .fragments(&[], PayloadOrigin::Raw),
            Err(PacketizeError::Empty),
        );
        let fragment = Packetizer::new(4)
            .unwrap()
            .fragments(&[1, 2, 3], PayloadOrigin::Raw)
            .unwrap()
            .next()
            .unwrap();
        t.row(
            "rtp: fragment into a buffer one byte short",
            fragment.write_to(&mut [0; 3]),
            Err(PacketizeError::PayloadSize),
        );
        t.row(
            "rtp: fragment into a buffer of its length",
            fragment.write_to(&mut [0; 4]),
            OK,
        );

        let rows: Vec<(
            &str,
            Vec<(u16, u8, u32, Vec<u8>)>,
            bool,
            Result<(), DepacketizeError>,
        )> = vec![
            (
                "rtp: one packet S+E",
                vec![packet(1, S | E, 96, 0, 3)],
                false,
                Ok(()),
            ),
            (
                "rtp: empty payload (no descriptor)",
                vec![(1, 96, 0, vec![])],
                false,
                Err(DepacketizeError::EmptyPayload),
            ),
            (
                "rtp: the same sequence number twice",
                vec![packet(1, S, 96, 0, 1), packet(1, S, 96, 0, 1)],
                false,
                Err(DepacketizeError::Duplicate),
            ),
            (
                "rtp: a used sequence number again",
                vec![packet(1, S | E, 96, 0, 1), packet(1, S | E, 96, 0, 1)],
                false,
                Err(DepacketizeError::Duplicate),
            ),
            (
                "rtp: older than the reorder window",
                vec![packet(10, S | E, 96, 0, 1), packet(5, S | E, 96, 0, 1)],
                false,
                Err(DepacketizeError::TooOld),
            ),
            (
                "rtp: at the edge of the reorder window",
                vec![packet(10, S | E, 96, 0, 1), packet(6, S | E, 96, 0, 1)],
                false,
                Ok(()),
            ),
            (
                "rtp: S and E, the packet between lost",
                vec![packet(1, S, 96, 0, 1), packet(3, E, 96, 0, 1)],
                true,
                Err(DepacketizeError::Gap),
            ),
            (
                "rtp: no S packet",
                vec![packet(2, 0, 96, 0, 1), packet(3, E, 96, 0, 1)],
                true,
                Err(DepacketizeError::MissingStart),
            ),
            (
                "rtp: no E packet",
                vec![packet(1, S, 96, 0, 1), packet(2, 0, 96, 0, 1)],
                true,
                Err(DepacketizeError::MissingEnd),
            ),
            (
                "rtp: a new S before the E",
                vec![packet(1, S, 96, 0, 1), packet(2, S | E, 96, 0, 1)],
                true,
                Err(DepacketizeError::MissingEnd),
            ),
            (
                "rtp: T bits differ",
                vec![packet(1, S, 96, 0, 1), packet(2, E | T, 96, 0, 1)],
                false,
                Err(DepacketizeError::MixedOrigin),
            ),
            (
                "rtp: payload types differ",
                vec![packet(1, S | T, 96, 0, 1), packet(2, E | T, 97, 0, 1)],
                false,
                Err(DepacketizeError::MixedPayloadType),
            ),
            (
                "rtp: timestamps differ",
                vec![packet(1, S, 96, 0, 1), packet(2, E, 96, 1, 1)],
                false,
                Err(DepacketizeError::MixedTimestamp),
            ),
            (
                "rtp: frame of the longest length",
                vec![packet(1, S, 96, 0, 4), packet(2, E, 96, 0, 4)],
                false,
                Ok(()),
            ),
            (
                "rtp: frame one byte too long",
                vec![packet(1, S, 96, 0, 4), packet(2, E, 96, 0, 5)],
                false,
                Err(DepacketizeError::Oversize),
            ),
            (
                "rtp: frame of the most packets",
                vec![
                    packet(1, S, 96, 0, 1),
                    packet(2, 0, 96, 0, 1),
                    packet(3, E, 96, 0, 1),
                ],
                false,
                Ok(()),
            ),
            (
                "rtp: frame of one packet too many",
                vec![
                    packet(1, S, 96, 0, 1),
                    packet(2, 0, 96, 0, 1),
                    packet(3, 0, 96, 0, 1),
                    packet(4, E, 96, 0, 1),
                ],
                true,
                Err(DepacketizeError::Oversize),
            ),
            (
                "rtp: more bytes held than the bound",
                vec![packet(1, S, 96, 0, 7), packet(3, S, 96, 0, 7)],
                false,
                Err(DepacketizeError::Overflow),
            ),
        ];
        for (name, packets, flush, want) in rows {
            t.row(name, first_error(&packets, flush), want);
        }
    }
}
