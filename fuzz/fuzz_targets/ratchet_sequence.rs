#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| secure_frame_fuzzing::ratchet_sequence(data));
