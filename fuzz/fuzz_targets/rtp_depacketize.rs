#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| secure_frame_fuzzing::rtp_depacketize(data));
