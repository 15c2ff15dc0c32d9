#!/usr/bin/env bash
# Generates the short real-media clips in test-data/media/ that tests/codecs.rs runs through
# `codec::plan` (see test-data/media/README.md). Needs ffmpeg with libvpx, libaom, libx264,
# libx265 and libopus (Debian: `apt-get install -y ffmpeg`). The clips are committed; run this only
# to regenerate them.
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/test-data/media"
mkdir -p "$out"
cd "$out"

# 160x120 test pattern, 10 frames at 15 fps; a key frame every 4 frames.
common=(-hide_banner -loglevel error -y)
src=(-f lavfi -i "testsrc2=size=160x120:rate=15" -frames:v 10 -pix_fmt yuv420p
  -threads 1 -fflags +bitexact -flags:v +bitexact -map_metadata -1)

# VP8 and VP9 in IVF, realtime settings like a WebRTC sender (no hidden alt-ref frames).
ffmpeg "${common[@]}" "${src[@]}" -c:v libvpx -deadline realtime -cpu-used 8 -lag-in-frames 0 \
  -b:v 150k -g 4 -keyint_min 4 -f ivf vp8.ivf
ffmpeg "${common[@]}" "${src[@]}" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -lag-in-frames 0 \
  -b:v 150k -g 4 -keyint_min 4 -f ivf vp9.ivf

# AV1 in IVF (temporal units in the low-overhead OBU format, temporal delimiters included).
ffmpeg "${common[@]}" "${src[@]}" -c:v libaom-av1 -usage realtime -cpu-used 8 -lag-in-frames 0 \
  -b:v 150k -g 4 -keyint_min 4 -f ivf av1.ivf

# H.264 Annex B with access unit delimiters (the tests split access units at each AUD):
#  - main profile, CABAC, B-frames, SPS/PPS repeated at every IDR, x264's SEI;
#  - constrained baseline like WebRTC senders, CAVLC, two slices per picture.
ffmpeg "${common[@]}" "${src[@]}" -c:v libx264 -profile:v main -preset veryfast -bf 2 \
  -g 4 -keyint_min 4 -sc_threshold 0 -x264-params aud=1:repeat-headers=1:b-adapt=0 -f h264 h264-main.h264
ffmpeg "${common[@]}" "${src[@]}" -c:v libx264 -profile:v baseline -preset veryfast \
  -g 4 -keyint_min 4 -sc_threshold 0 -x264-params aud=1:repeat-headers=1:slices=2 \
  -f h264 h264-baseline.h264

# H.265 Annex B with AUDs, VPS/SPS/PPS repeated at every IRAP, B-frames.
ffmpeg "${common[@]}" "${src[@]}" -c:v libx265 -preset veryfast \
  -x265-params "log-level=error:aud=1:repeat-headers=1:keyint=4:min-keyint=4:scenecut=0:bframes=2:info=0" \
  -f hevc h265.h265

# Opus in Ogg: 200 ms of a 440 Hz tone then 200 ms of silence, 20 ms packets.
ffmpeg "${common[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=0.2" \
  -f lavfi -i "anullsrc=r=48000:cl=mono" -filter_complex "[1]atrim=duration=0.2[s];[0][s]concat=n=2:v=0:a=1" \
  -fflags +bitexact -flags:a +bitexact -map_metadata -1 -c:a libopus -b:a 24k -frame_duration 20 -ac 1 -f ogg opus.ogg

# The container's/stream's own key frame flags, one character per frame (K = key, . = not),
# as ffprobe reports them; tests compare `FramePlan::keyframe` against them.
{
  for clip in vp8.ivf vp9.ivf av1.ivf h264-main.h264 h264-baseline.h264 h265.h265; do
    flags="$(ffprobe -v error -select_streams v:0 -show_entries packet=flags -of csv=p=0 "$clip" \
      | sed -e 's/^K.*/K/' -e 's/^[^K].*/./' | tr -d '\n')"
    echo "$clip $flags"
  done
} > keyframes.txt

ls -l "$out"
