/*
 * sealhost plugin ABI — the only contract between the host and a plugin.
 *
 * Pure C (C11 and C++20). Only POD structs, function pointers, (ptr,len) views and int32_t status
 * codes cross the boundary. Rules (see docs/plugin-abi.md):
 *
 *  - Every struct starts with `uint32_t struct_size` set by whoever fills it to sizeof() of the
 *    version it was compiled against. Within one ABI major, structs only grow at the end; a reader
 *    must check struct_size before touching a field added in a later minor.
 *  - A plugin exports exactly one symbol, `sealhost_plugin_entry_v1`, returning a pointer to a
 *    constant descriptor that lives as long as the process (plugins are never unloaded).
 *  - The host refuses a plugin whose abi_major differs from its own, or whose abi_minor is newer.
 *  - Whoever allocates frees. Views passed into a call are borrowed for that call only; to return
 *    data, a plugin calls the callback the host passed in (the host copies what it needs).
 *  - Errors: a hook returns a status; on failure it should describe the problem through the
 *    host-owned error sink (lower-case message naming the object and the fix).
 *  - Threading: a component instance's hooks may be called from several host threads at once
 *    unless its descriptor sets SEALHOST_COMPONENT_SINGLE_THREADED. Long hooks receive a job
 *    handle (progress + cancel) and never run on the host's network threads.
 */
#ifndef SEALHOST_ABI_H
#define SEALHOST_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEALHOST_ABI_MAJOR 1
#define SEALHOST_ABI_MINOR 1

#define SEALHOST_ENTRY_SYMBOL "sealhost_plugin_entry_v1"

#if defined(_WIN32)
#define SEALHOST_EXPORT __declspec(dllexport)
#else
#define SEALHOST_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- status codes */

typedef int32_t sealhost_status;

enum {
  SEALHOST_OK = 0,
  SEALHOST_E_INVALID_ARGUMENT = 1,    /* bad input from the caller; do not retry */
  SEALHOST_E_NOT_FOUND = 2,           /* the named object does not exist */
  SEALHOST_E_ALREADY_EXISTS = 3,      /* the object to create exists */
  SEALHOST_E_PERMISSION = 4,          /* the OS or a remote refused access */
  SEALHOST_E_RESOURCE_EXHAUSTED = 5,  /* out of space/memory/quota; retry later with back-off */
  SEALHOST_E_UNAVAILABLE = 6,         /* transient: device/remote down; retry with back-off */
  SEALHOST_E_CANCELLED = 7,           /* the job's cancel flag was honoured */
  SEALHOST_E_DATA_LOSS = 8,           /* stored data is corrupt; quarantine, never retry blindly */
  SEALHOST_E_UNIMPLEMENTED = 9,       /* the component does not support this call */
  SEALHOST_E_INTERNAL = 10,           /* a bug in the plugin */
  SEALHOST_E_IO = 11,                 /* an I/O error other than the above */
  SEALHOST_E_OUT_OF_RANGE = 12,       /* offset/length outside the object */
  SEALHOST_E_FAILED_PRECONDITION = 13 /* state does not allow the call (e.g. path not attached) */
};

/* ---------------------------------------------------------------- views */

/* A borrowed UTF-8 string; not NUL-terminated unless stated. */
typedef struct sealhost_str {
  const char* data;
  size_t len;
} sealhost_str;

/* A borrowed byte range. */
typedef struct sealhost_bytes {
  const uint8_t* data;
  size_t len;
} sealhost_bytes;

/* ---------------------------------------------------------------- errors, logging, jobs */

/* Host-owned error sink. A plugin calls set() at most once per failing call; later calls
 * overwrite. The message is copied by the host before set() returns. */
typedef struct sealhost_error_sink {
  uint32_t struct_size;
  void* ctx;
  void (*set)(void* ctx, sealhost_status code, sealhost_str message);
} sealhost_error_sink;

enum {
  SEALHOST_LOG_TRACE = 0,
  SEALHOST_LOG_DEBUG = 1,
  SEALHOST_LOG_INFO = 2,
  SEALHOST_LOG_WARN = 3,
  SEALHOST_LOG_ERROR = 4
};

/* Handle for one long-running call. progress() and cancelled() are thread-safe and cheap; call
 * cancelled() at least every ~100 ms of work and return SEALHOST_E_CANCELLED when it is non-zero,
 * after removing partial output. `phase` names the current step ("layer 3/11"). */
typedef struct sealhost_job {
  uint32_t struct_size;
  void* ctx;
  void (*progress)(void* ctx, uint64_t done, uint64_t total, sealhost_str phase);
  int32_t (*cancelled)(void* ctx);
} sealhost_job;

/* Services the host offers every plugin. Valid for the life of the process. */
typedef struct sealhost_host_services {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t reserved0;
  void* ctx;
  /* Logs into spdlog as logger "plugin.<component id>" (or the plugin id when logger is empty). */
  void (*log)(void* ctx, sealhost_str logger, int32_t level, sealhost_str message);
  /* Non-zero when a message at `level` would be written; lets plugins skip formatting. */
  int32_t (*log_enabled)(void* ctx, sealhost_str logger, int32_t level);
  /* The sealhost version string, NUL-terminated, static. */
  const char* host_version;
  /* ABI 1.1: an instance of another component the host owns, by kind and id (e.g. the compute
   * backend a pc2 stage is configured with). The host creates it on first request from the
   * config's options for that component, or from its defaults when the config does not name it,
   * and keeps it for the life of the process: *instance and *vtable (the kind's vtable struct)
   * stay valid while the caller's own instance exists and may be used from any thread the
   * component allows. NOT_FOUND when no loaded plugin provides `id` or it is of another kind,
   * otherwise the component's own create() error. NULL in a 1.0 host: check struct_size. */
  sealhost_status (*get_component)(void* ctx, int32_t kind, sealhost_str id, void** instance,
                                   const void** vtable, sealhost_error_sink* err);
} sealhost_host_services;

/* ---------------------------------------------------------------- options */

enum {
  SEALHOST_OPT_BOOL = 1,
  SEALHOST_OPT_INT = 2,    /* int64; min/max apply */
  SEALHOST_OPT_DOUBLE = 3, /* min/max apply (as integers bounds, inclusive) when min <= max */
  SEALHOST_OPT_STRING = 4,
  SEALHOST_OPT_SIZE = 5,     /* bytes; TOML "32GiB", "512MiB", or an integer; min/max apply */
  SEALHOST_OPT_DURATION = 6, /* milliseconds; TOML "30s", "5m", "250ms"; min/max apply */
  SEALHOST_OPT_ENUM = 7,     /* one string of `choices` */
  SEALHOST_OPT_PATH = 8,     /* a filesystem path; "~" expanded by the host */
  SEALHOST_OPT_STRING_LIST = 9
};

enum {
  SEALHOST_OPTF_REQUIRED = 1u << 0 /* no default: the config must set it */
};

/* One entry of a component's option table. `default_value` is written as it would be in TOML
 * (e.g. "4", "true", "\"auto\"", "\"32GiB\"", "[]"); NULL only with SEALHOST_OPTF_REQUIRED. */
typedef struct sealhost_option_desc {
  uint32_t struct_size;
  int32_t type;
  uint32_t flags;
  uint32_t reserved0;
  const char* key;
  const char* default_value;
  int64_t min; /* range check only when min <= max */
  int64_t max;
  const char* const* choices; /* ENUM only */
  size_t choices_len;
  const char* unit;        /* "threads", "bytes", "ms", ... or NULL */
  const char* description; /* one line */
} sealhost_option_desc;

/* A validated option value, as the host hands it to create(). Every option of the table is
 * present (defaults applied), in table order. Views are borrowed for the create() call. */
typedef struct sealhost_option_value {
  uint32_t struct_size;
  int32_t type;
  const char* key; /* NUL-terminated, same pointer as in the table */
  int32_t b;       /* BOOL */
  int32_t reserved0;
  int64_t i;                /* INT, SIZE (bytes), DURATION (ms) */
  double d;                 /* DOUBLE */
  sealhost_str s;           /* STRING, ENUM, PATH */
  const sealhost_str* list; /* STRING_LIST */
  size_t list_len;
} sealhost_option_value;

typedef struct sealhost_options {
  uint32_t struct_size;
  uint32_t reserved0;
  const sealhost_option_value* values;
  size_t len;
} sealhost_options;

/* ---------------------------------------------------------------- components */

enum {
  SEALHOST_KIND_STAGE = 1,
  SEALHOST_KIND_STORAGE = 2,
  SEALHOST_KIND_COMPUTE = 3,
  SEALHOST_KIND_POST = 4,
  SEALHOST_KIND_CHAIN = 5
};

enum {
  SEALHOST_COMPONENT_SINGLE_THREADED = 1u << 0 /* host serialises calls on one instance */
};

/* Receives a JSON document (UTF-8) produced by a plugin; the host copies it. */
typedef void (*sealhost_json_cb)(void* ctx, sealhost_str json);

/* -- storage: where sector files live (local paths, object stores). Defined in full. -- */

/* Sector file types, as Lotus's SectorFileType bit set. */
enum {
  SEALHOST_FT_UNSEALED = 1u << 0,
  SEALHOST_FT_SEALED = 1u << 1,
  SEALHOST_FT_CACHE = 1u << 2,
  SEALHOST_FT_UPDATE = 1u << 3,
  SEALHOST_FT_UPDATE_CACHE = 1u << 4
};

/* Which role a new allocation is for. */
enum { SEALHOST_PATH_SEALING = 1, SEALHOST_PATH_STORAGE = 2 };

typedef struct sealhost_sector_ref {
  uint32_t struct_size;
  uint32_t reserved0;
  uint64_t miner;       /* actor id (t0<miner>) */
  uint64_t number;      /* sector number */
  uint64_t sector_size; /* bytes (2048, 8388608, ..., 68719476736) */
} sealhost_sector_ref;

/* A storage path's description and live statistics (bytes). */
typedef struct sealhost_storage_path_info {
  uint32_t struct_size;
  int32_t can_seal;
  int32_t can_store;
  int32_t reserved0;
  sealhost_str id;       /* stable id (uuid) from the path's metadata */
  sealhost_str location; /* local filesystem path or URL */
  uint64_t weight;
  uint64_t max_storage; /* 0 = unlimited */
  uint64_t capacity;    /* filesystem total */
  uint64_t available;   /* free to us, after the max_storage limit */
  uint64_t reserved;    /* held by open reservations */
  uint64_t used;        /* bytes of sector files we hold */
} sealhost_storage_path_info;

typedef void (*sealhost_path_cb)(void* ctx, const sealhost_storage_path_info* info);

typedef struct sealhost_storage_attach_params {
  uint32_t struct_size;
  int32_t init;      /* create the path's metadata if absent */
  int32_t can_seal;  /* used with init */
  int32_t can_store; /* used with init */
  sealhost_str location;
  uint64_t weight;      /* used with init */
  uint64_t max_storage; /* used with init; 0 = unlimited */
} sealhost_storage_attach_params;

/* Where one sector file is (or will be). `local_path` is a filesystem path usable by stages, or
 * empty when the backend cannot expose one (object stores): then use read_range/put. */
typedef struct sealhost_sector_location {
  uint32_t struct_size;
  uint32_t file_type; /* one SEALHOST_FT_* bit */
  sealhost_str path_id;
  sealhost_str local_path;
  uint64_t size; /* current size in bytes, 0 if not yet written */
} sealhost_sector_location;

typedef void (*sealhost_location_cb)(void* ctx, const sealhost_sector_location* loc);

typedef struct sealhost_storage_vtable {
  uint32_t struct_size;
  uint32_t reserved0;
  /* Attaches an existing path (or initialises it with init=1); reports the path's info. */
  sealhost_status (*attach)(void* self, const sealhost_storage_attach_params* params,
                            sealhost_path_cb cb, void* cb_ctx, sealhost_error_sink* err);
  /* Detaches the path by id or location; refuses while a reservation is open on it. */
  sealhost_status (*detach)(void* self, sealhost_str path_id_or_location, sealhost_error_sink* err);
  /* Reports every attached path with fresh statistics. */
  sealhost_status (*list)(void* self, sealhost_path_cb cb, void* cb_ctx, sealhost_error_sink* err);
  /* Reports one path with fresh statistics. */
  sealhost_status (*stat)(void* self, sealhost_str path_id, sealhost_path_cb cb, void* cb_ctx,
                          sealhost_error_sink* err);
  /* Chooses a path for new files of `file_types` (bit set) for the role, reserves the space they
   * will need, creates parent directories and reports one location per type. The reservation id
   * is released with release() once the files are written (or abandoned). */
  sealhost_status (*allocate)(void* self, const sealhost_sector_ref* sector, uint32_t file_types,
                              int32_t path_role, uint64_t* reservation_id, sealhost_location_cb cb,
                              void* cb_ctx, sealhost_error_sink* err);
  sealhost_status (*release)(void* self, uint64_t reservation_id, sealhost_error_sink* err);
  /* Finds existing files of `file_types`; reports one location per file found. NOT_FOUND when
   * none of them exists. */
  sealhost_status (*find)(void* self, const sealhost_sector_ref* sector, uint32_t file_types,
                          sealhost_location_cb cb, void* cb_ctx, sealhost_error_sink* err);
  /* Moves the files of `file_types` to the path `dest_path_id` (atomic per file where the
   * backend can; the source is removed only after the destination is complete). */
  sealhost_status (*move)(void* self, const sealhost_sector_ref* sector, uint32_t file_types,
                          sealhost_str dest_path_id, sealhost_job* job, sealhost_error_sink* err);
  /* Removes the files of `file_types` from every path. Missing files are not an error. */
  sealhost_status (*remove)(void* self, const sealhost_sector_ref* sector, uint32_t file_types,
                            sealhost_error_sink* err);
  /* Reads [offset, offset+len) of one file into buf. For FT_CACHE, `name` is the file inside the
   * cache directory (e.g. "sc-02-data-tree-r-last.dat"); otherwise it must be empty.
   * OUT_OF_RANGE when the range passes the end of the file. */
  sealhost_status (*read_range)(void* self, const sealhost_sector_ref* sector, uint32_t file_type,
                                sealhost_str name, uint64_t offset, uint8_t* buf, size_t len,
                                sealhost_error_sink* err);
} sealhost_storage_vtable;

/* -- stage: one pipeline step for one sector. Inputs and outputs are versioned JSON records
 * documented per stage (docs/stages.md); the envelope is {"v":1, "sector":{...}, ...}. -- */
typedef struct sealhost_stage_vtable {
  uint32_t struct_size;
  uint32_t reserved0;
  /* The stage name this component implements: "addpiece", "pc1", "pc2", "c1", "c2",
   * "finalize", "unseal". NUL-terminated, static. */
  const char* stage;
  /* Runs the step. The result JSON is delivered through cb before returning OK. */
  sealhost_status (*run)(void* self, sealhost_str input_json, sealhost_job* job,
                         sealhost_json_cb cb, void* cb_ctx, sealhost_error_sink* err);
} sealhost_stage_vtable;

/* -- compute: batched hashing kernels. Field elements are 32-byte canonical little-endian
 * BLS12-381 scalars (never Montgomery form across the ABI). -- */
typedef struct sealhost_compute_device_info {
  uint32_t struct_size;
  uint32_t compute_units;
  sealhost_str name;    /* "AMD EPYC (2 threads)", "NVIDIA H100 ..." */
  sealhost_str backend; /* "cpu", "opencl", "vulkan" */
  uint64_t memory_bytes;
} sealhost_compute_device_info;

typedef void (*sealhost_device_cb)(void* ctx, const sealhost_compute_device_info* info);

typedef struct sealhost_compute_vtable {
  uint32_t struct_size;
  uint32_t reserved0;
  sealhost_status (*device_info)(void* self, sealhost_device_cb cb, void* cb_ctx,
                                 sealhost_error_sink* err);
  /* out[i] = Poseidon-arity(inputs[i*arity .. i*arity+arity)) with the MerkleTree domain tag
   * (tag = 0) or ConstantLength (tag = 1). `inputs` holds n*arity*32 bytes, `out` n*32. */
  sealhost_status (*poseidon_batch)(void* self, uint32_t arity, uint32_t tag, const uint8_t* inputs,
                                    uint8_t* out, size_t n, sealhost_job* job,
                                    sealhost_error_sink* err);
  /* Builds the rows above `leaves` (n leaves, n a power of `arity`) of a Poseidon Merkle tree;
   * writes every row after the leaves, lowest first, into `rows_out` ((n-1)/(arity-1) nodes). */
  sealhost_status (*tree_build)(void* self, uint32_t arity, const uint8_t* leaves, size_t n,
                                uint8_t* rows_out, sealhost_job* job, sealhost_error_sink* err);
  /* out[i] = SHA254(pairs[i*64 .. i*64+64)), the binary tree_d node hash. */
  sealhost_status (*sha254_batch)(void* self, const uint8_t* pairs, uint8_t* out, size_t n,
                                  sealhost_job* job, sealhost_error_sink* err);
} sealhost_compute_vtable;

/* -- post and chain: JSON-method components (their issues extend these within the minor
 * rules). `method` names a documented call ("window.prove", "chain.head", ...). -- */
typedef struct sealhost_post_vtable {
  uint32_t struct_size;
  uint32_t reserved0;
  const char* strategy; /* "window", "winning", "check-all" */
  sealhost_status (*call)(void* self, sealhost_str method, sealhost_str params_json,
                          sealhost_job* job, sealhost_json_cb cb, void* cb_ctx,
                          sealhost_error_sink* err);
} sealhost_post_vtable;

typedef struct sealhost_chain_vtable {
  uint32_t struct_size;
  uint32_t reserved0;
  sealhost_status (*call)(void* self, sealhost_str method, sealhost_str params_json,
                          sealhost_job* job, sealhost_json_cb cb, void* cb_ctx,
                          sealhost_error_sink* err);
} sealhost_chain_vtable;

/* One component a plugin provides. create() makes an instance from validated options;
 * destroy() frees it. `vtable` points to the kind's vtable struct (sealhost_storage_vtable, ...).
 */
typedef struct sealhost_component_desc {
  uint32_t struct_size;
  int32_t kind;
  uint32_t flags;
  uint32_t reserved0;
  const char* id; /* "<vendor>.<kind>.<name>", e.g. "sealhost.storage.local" */
  const char* description;
  const sealhost_option_desc* options;
  size_t options_len;
  sealhost_status (*create)(const sealhost_host_services* host, const sealhost_options* options,
                            void** instance_out, sealhost_error_sink* err);
  void (*destroy)(void* instance);
  const void* vtable;
} sealhost_component_desc;

enum {
  SEALHOST_MATURITY_EXPERIMENTAL = 1,
  SEALHOST_MATURITY_BETA = 2,
  SEALHOST_MATURITY_STABLE = 3
};

typedef struct sealhost_plugin_descriptor {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  int32_t maturity;
  const char* id;      /* "<vendor>.<name>", e.g. "sealhost.storage-local" */
  const char* version; /* semver of the plugin */
  const char* license; /* SPDX expression */
  const char* description;
  const sealhost_component_desc* components;
  size_t components_len;
  /* Optional; called once after load, before any create(). */
  sealhost_status (*init)(const sealhost_host_services* host, sealhost_error_sink* err);
} sealhost_plugin_descriptor;

typedef const sealhost_plugin_descriptor* (*sealhost_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SEALHOST_ABI_H */
