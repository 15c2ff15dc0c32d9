// A C ABI over cisco/sframe (`sframe::Context`, `sframe::MLSContext`) for the Rust tests in
// `tests/cisco.rs`. Ours, not cisco's: every buffer comes with its length, every call returns
// an error code (0 = success, 1..7 = cisco's `SFrameErrorType`, negative = the shim's own), and
// no C++ exception crosses the boundary.
//
// The one thing added to cisco's public API is `sfs_ctx_set_counter`: a test door, through a
// subclass (cisco's key map is `protected`), that moves a send key's counter so that the tests
// can reach any counter without protecting 2^64 frames. Small counters are reached the honest
// way, by protecting frames.

#include <sframe/sframe.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>

namespace {

constexpr int32_t SFS_OK = 0;
constexpr int32_t SFS_NULL = -1;        // a null handle or out-pointer
constexpr int32_t SFS_EXCEPTION = -2;   // cisco threw (e.g. std::out_of_range)
constexpr int32_t SFS_BAD_ARGUMENT = -3; // an unknown suite or usage

// Context with a door to the per-key counter.
class ShimContext : public sframe::Context
{
public:
  explicit ShimContext(sframe::CipherSuite suite)
    : sframe::Context(suite)
  {
  }

  int32_t set_counter(sframe::KeyID kid, sframe::Counter ctr)
  {
    if (!keys.contains(kid)) {
      return static_cast<int32_t>(sframe::SFrameErrorType::invalid_parameter_error);
    }
    keys.at(kid).counter = ctr;
    return SFS_OK;
  }
};

bool
suite_from(uint16_t id, sframe::CipherSuite& out)
{
  if (id < 1 || id > 5) {
    return false;
  }
  out = static_cast<sframe::CipherSuite>(id);
  return true;
}

int32_t
code(sframe::SFrameError error)
{
  return static_cast<int32_t>(error.type());
}

sframe::input_bytes
in(const uint8_t* ptr, size_t len)
{
  return len == 0 ? sframe::input_bytes() : sframe::input_bytes(ptr, len);
}

sframe::output_bytes
out_span(uint8_t* ptr, size_t len)
{
  return len == 0 ? sframe::output_bytes() : sframe::output_bytes(ptr, len);
}

// Runs `f`, turning a thrown exception into SFS_EXCEPTION.
template<typename F>
int32_t
guarded(F&& f)
{
  try {
    return f();
  } catch (...) {
    return SFS_EXCEPTION;
  }
}

// Stores a Result<output_bytes> in *out_len, or returns its error.
int32_t
finish(sframe::Result<sframe::output_bytes> result, size_t* out_len)
{
  if (result.is_err()) {
    return code(result.error());
  }
  *out_len = result.value().size();
  return SFS_OK;
}

} // namespace

struct sfs_ctx
{
  ShimContext inner;
};

struct sfs_mls
{
  sframe::MLSContext inner;
};

extern "C" {

int32_t
sfs_ctx_new(uint16_t suite, sfs_ctx** out)
{
  if (out == nullptr) {
    return SFS_NULL;
  }
  sframe::CipherSuite s;
  if (!suite_from(suite, s)) {
    return SFS_BAD_ARGUMENT;
  }
  return guarded([&] {
    *out = new sfs_ctx{ ShimContext(s) };
    return SFS_OK;
  });
}

void
sfs_ctx_free(sfs_ctx* ctx)
{
  delete ctx;
}

// usage: 0 = protect, 1 = unprotect.
int32_t
sfs_ctx_add_key(sfs_ctx* ctx,
                uint64_t kid,
                uint32_t usage,
                const uint8_t* key,
                size_t key_len)
{
  if (ctx == nullptr) {
    return SFS_NULL;
  }
  if (usage > 1) {
    return SFS_BAD_ARGUMENT;
  }
  const auto u = usage == 0 ? sframe::KeyUsage::protect : sframe::KeyUsage::unprotect;
  return guarded([&] {
    auto result = ctx->inner.add_key(kid, u, in(key, key_len));
    return result.is_err() ? code(result.error()) : SFS_OK;
  });
}

int32_t
sfs_ctx_remove_key(sfs_ctx* ctx, uint64_t kid)
{
  if (ctx == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    ctx->inner.remove_key(kid);
    return SFS_OK;
  });
}

int32_t
sfs_ctx_set_counter(sfs_ctx* ctx, uint64_t kid, uint64_t ctr)
{
  if (ctx == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] { return ctx->inner.set_counter(kid, ctr); });
}

int32_t
sfs_ctx_protect(sfs_ctx* ctx,
                uint64_t kid,
                const uint8_t* plaintext,
                size_t plaintext_len,
                const uint8_t* metadata,
                size_t metadata_len,
                uint8_t* out,
                size_t out_cap,
                size_t* out_len)
{
  if (ctx == nullptr || out_len == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    return finish(ctx->inner.protect(kid,
                                     out_span(out, out_cap),
                                     in(plaintext, plaintext_len),
                                     in(metadata, metadata_len)),
                  out_len);
  });
}

int32_t
sfs_ctx_unprotect(sfs_ctx* ctx,
                  const uint8_t* ciphertext,
                  size_t ciphertext_len,
                  const uint8_t* metadata,
                  size_t metadata_len,
                  uint8_t* out,
                  size_t out_cap,
                  size_t* out_len)
{
  if (ctx == nullptr || out_len == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    return finish(ctx->inner.unprotect(out_span(out, out_cap),
                                       in(ciphertext, ciphertext_len),
                                       in(metadata, metadata_len)),
                  out_len);
  });
}

int32_t
sfs_mls_new(uint16_t suite, uint32_t epoch_bits, sfs_mls** out)
{
  if (out == nullptr) {
    return SFS_NULL;
  }
  sframe::CipherSuite s;
  // cisco sizes its epoch table as 1 << epoch_bits entries.
  if (!suite_from(suite, s) || epoch_bits == 0 || epoch_bits > 16) {
    return SFS_BAD_ARGUMENT;
  }
  return guarded([&] {
    *out = new sfs_mls{ sframe::MLSContext(s, epoch_bits) };
    return SFS_OK;
  });
}

void
sfs_mls_free(sfs_mls* ctx)
{
  delete ctx;
}

// sender_bits = 0: the sender ID takes every bit above the epoch (cisco's convention; no
// context then).
int32_t
sfs_mls_add_epoch(sfs_mls* ctx,
                  uint64_t epoch,
                  const uint8_t* secret,
                  size_t secret_len,
                  uint32_t sender_bits)
{
  if (ctx == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    auto result = ctx->inner.add_epoch(epoch, in(secret, secret_len), sender_bits);
    return result.is_err() ? code(result.error()) : SFS_OK;
  });
}

int32_t
sfs_mls_remove_epoch(sfs_mls* ctx, uint64_t epoch)
{
  if (ctx == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    ctx->inner.remove_epoch(epoch);
    return SFS_OK;
  });
}

int32_t
sfs_mls_purge_before(sfs_mls* ctx, uint64_t epoch)
{
  if (ctx == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    ctx->inner.purge_before(epoch);
    return SFS_OK;
  });
}

int32_t
sfs_mls_protect(sfs_mls* ctx,
                uint64_t epoch,
                uint64_t sender,
                uint64_t context,
                const uint8_t* plaintext,
                size_t plaintext_len,
                const uint8_t* metadata,
                size_t metadata_len,
                uint8_t* out,
                size_t out_cap,
                size_t* out_len)
{
  if (ctx == nullptr || out_len == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    return finish(ctx->inner.protect(epoch,
                                     sender,
                                     context,
                                     out_span(out, out_cap),
                                     in(plaintext, plaintext_len),
                                     in(metadata, metadata_len)),
                  out_len);
  });
}

int32_t
sfs_mls_unprotect(sfs_mls* ctx,
                  const uint8_t* ciphertext,
                  size_t ciphertext_len,
                  const uint8_t* metadata,
                  size_t metadata_len,
                  uint8_t* out,
                  size_t out_cap,
                  size_t* out_len)
{
  if (ctx == nullptr || out_len == nullptr) {
    return SFS_NULL;
  }
  return guarded([&] {
    return finish(ctx->inner.unprotect(out_span(out, out_cap),
                                       in(ciphertext, ciphertext_len),
                                       in(metadata, metadata_len)),
                  out_len);
  });
}

} // extern "C"
