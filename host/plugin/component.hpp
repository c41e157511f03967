// Component instances and typed clients over a component's C vtable.
//
// ComponentInstance owns one instance created from validated options and destroys it. The typed
// clients (StorageClient, StageClient, ComputeClient) call the vtable, copy what the plugin returns
// into C++ values, and throw PluginError carrying the plugin's status and message.
#pragma once

#include "host/plugin/registry.hpp"

#include <sealhost/abi.h>
#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/storage.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace sealhost::host {

class PluginError : public std::runtime_error {
 public:
  PluginError(sealhost_status code, const std::string& msg)
      : std::runtime_error(msg), code_(code) {}
  sealhost_status code() const { return code_; }

 private:
  sealhost_status code_;
};

class ComponentInstance {
 public:
  // Creates the instance; throws PluginError when create() fails.
  ComponentInstance(ComponentRef ref, const sealhost_host_services* host, sdk::OptionSet options);
  ~ComponentInstance();
  ComponentInstance(const ComponentInstance&) = delete;
  ComponentInstance& operator=(const ComponentInstance&) = delete;

  const sealhost_component_desc& desc() const { return *ref_.desc; }
  const LoadedPlugin& plugin() const { return *ref_.plugin; }
  void* handle() const { return instance_; }
  template <class VT>
  const VT& vtable() const {
    return *static_cast<const VT*>(ref_.desc->vtable);
  }

 private:
  ComponentRef ref_;
  sdk::OptionSet options_;
  void* instance_ = nullptr;
};

// Progress/cancel state of one long call, exposed to the plugin as a sealhost_job.
class JobState {
 public:
  using ProgressFn = std::function<void(uint64_t done, uint64_t total, std::string_view phase)>;
  explicit JobState(ProgressFn fn = {});
  sealhost_job* c() { return &job_; }
  void cancel() { cancelled_ = true; }

 private:
  sealhost_job job_{};
  ProgressFn fn_;
  std::atomic<bool> cancelled_{false};
};

class StorageClient {
 public:
  explicit StorageClient(std::shared_ptr<ComponentInstance> inst);

  sdk::PathInfo attach(const sdk::AttachRequest& req);
  void detach(const std::string& id_or_location);
  std::vector<sdk::PathInfo> list();
  sdk::PathInfo stat(const std::string& path_id);
  sdk::Allocation allocate(const sdk::SectorRef& s, uint32_t types, int32_t role);
  void release(uint64_t reservation_id);
  // Empty when none of the files exist.
  std::vector<sdk::Location> find(const sdk::SectorRef& s, uint32_t types);
  void move(const sdk::SectorRef& s, uint32_t types, const std::string& dest_path_id,
            JobState* job = nullptr);
  void remove(const sdk::SectorRef& s, uint32_t types);
  void read_range(const sdk::SectorRef& s, uint32_t type, std::string_view name, uint64_t offset,
                  uint8_t* buf, size_t len);
  const ComponentInstance& instance() const { return *inst_; }

 private:
  const sealhost_storage_vtable& vt() const;
  std::shared_ptr<ComponentInstance> inst_;
};

class StageClient {
 public:
  explicit StageClient(std::shared_ptr<ComponentInstance> inst);
  std::string stage() const;
  std::string run(std::string_view input_json, JobState* job = nullptr);

 private:
  std::shared_ptr<ComponentInstance> inst_;
};

// Batched hashing on a compute component. Buffers are the caller's, passed through unchanged
// (field elements as 32-byte canonical little-endian values); sizes are as in abi.h. Thread-safe
// when the component is (see SEALHOST_COMPONENT_SINGLE_THREADED).
class ComputeClient {
 public:
  explicit ComputeClient(std::shared_ptr<ComponentInstance> inst);

  sdk::DeviceInfo device_info();
  // out[i] = Poseidon_arity(inputs[i*arity .. +arity)); inputs n*arity*32 bytes, out n*32.
  void poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs, uint8_t* out, size_t n,
                      JobState* job = nullptr);
  // Every row above the n leaves, lowest first: sdk::tree_rows_nodes(n, arity)*32 bytes.
  void tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                  JobState* job = nullptr);
  // out[i] = SHA254(pairs[i*64 .. +64)).
  void sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n, JobState* job = nullptr);
  const ComponentInstance& instance() const { return *inst_; }

 private:
  const sealhost_compute_vtable& vt() const;
  std::shared_ptr<ComponentInstance> inst_;
};

}  // namespace sealhost::host
