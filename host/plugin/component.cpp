#include "host/plugin/component.hpp"

namespace sealhost::host {
namespace {

[[noreturn]] void raise(const ComponentInstance& inst, sealhost_status st,
                        const sdk::ErrorSink& e) {
  throw PluginError(st, e.text(st));
  (void)inst;
}

void check(const ComponentInstance& inst, sealhost_status st, const sdk::ErrorSink& e) {
  if (st != SEALHOST_OK) raise(inst, st, e);
}

void collect_path(void* ctx, const sealhost_storage_path_info* p) {
  static_cast<std::vector<sdk::PathInfo>*>(ctx)->push_back(sdk::from_c(*p));
}
void collect_location(void* ctx, const sealhost_sector_location* l) {
  static_cast<std::vector<sdk::Location>*>(ctx)->push_back(sdk::from_c(*l));
}
void collect_json(void* ctx, sealhost_str json) {
  *static_cast<std::string*>(ctx) = std::string(sdk::to_view(json));
}

sdk::PathInfo one(std::vector<sdk::PathInfo>& v, const char* what) {
  if (v.size() != 1) {
    throw PluginError(SEALHOST_E_INTERNAL, std::string("storage plugin reported ") +
                                               std::to_string(v.size()) + " paths for " + what +
                                               " (expected one)");
  }
  return std::move(v.front());
}

}  // namespace

ComponentInstance::ComponentInstance(ComponentRef ref, const sealhost_host_services* host,
                                     sdk::OptionSet options)
    : ref_(ref), options_(std::move(options)) {
  sdk::ErrorSink err;
  sealhost_status st = ref_.desc->create(host, options_.c(), &instance_, err.c());
  if (st != SEALHOST_OK) {
    throw PluginError(st, std::string("component ") + ref_.desc->id + ": " + err.text(st));
  }
  if (!instance_) {
    throw PluginError(SEALHOST_E_INTERNAL,
                      std::string("component ") + ref_.desc->id + ": create returned no instance");
  }
}

ComponentInstance::~ComponentInstance() {
  if (instance_) ref_.desc->destroy(instance_);
}

JobState::JobState(ProgressFn fn) : fn_(std::move(fn)) {
  job_.struct_size = sizeof job_;
  job_.ctx = this;
  job_.progress = [](void* ctx, uint64_t done, uint64_t total, sealhost_str phase) {
    auto* self = static_cast<JobState*>(ctx);
    if (self->fn_) self->fn_(done, total, sdk::to_view(phase));
  };
  job_.cancelled = [](void* ctx) -> int32_t {
    return static_cast<JobState*>(ctx)->cancelled_.load() ? 1 : 0;
  };
}

StorageClient::StorageClient(std::shared_ptr<ComponentInstance> inst) : inst_(std::move(inst)) {
  if (inst_->desc().kind != SEALHOST_KIND_STORAGE) {
    throw PluginError(SEALHOST_E_INVALID_ARGUMENT,
                      std::string("component ") + inst_->desc().id + " is not a storage component");
  }
}

const sealhost_storage_vtable& StorageClient::vt() const {
  return inst_->vtable<sealhost_storage_vtable>();
}

sdk::PathInfo StorageClient::attach(const sdk::AttachRequest& req) {
  sdk::ErrorSink e;
  std::vector<sdk::PathInfo> out;
  auto c = sdk::to_c(req);
  check(*inst_, vt().attach(inst_->handle(), &c, &collect_path, &out, e.c()), e);
  return one(out, "attach");
}

void StorageClient::detach(const std::string& id) {
  sdk::ErrorSink e;
  check(*inst_, vt().detach(inst_->handle(), sdk::to_str(id), e.c()), e);
}

std::vector<sdk::PathInfo> StorageClient::list() {
  sdk::ErrorSink e;
  std::vector<sdk::PathInfo> out;
  check(*inst_, vt().list(inst_->handle(), &collect_path, &out, e.c()), e);
  return out;
}

sdk::PathInfo StorageClient::stat(const std::string& id) {
  sdk::ErrorSink e;
  std::vector<sdk::PathInfo> out;
  check(*inst_, vt().stat(inst_->handle(), sdk::to_str(id), &collect_path, &out, e.c()), e);
  return one(out, "stat");
}

sdk::Allocation StorageClient::allocate(const sdk::SectorRef& s, uint32_t types, int32_t role) {
  sdk::ErrorSink e;
  sdk::Allocation a;
  auto c = sdk::to_c(s);
  check(*inst_,
        vt().allocate(inst_->handle(), &c, types, role, &a.reservation_id, &collect_location,
                      &a.locations, e.c()),
        e);
  return a;
}

void StorageClient::release(uint64_t id) {
  sdk::ErrorSink e;
  check(*inst_, vt().release(inst_->handle(), id, e.c()), e);
}

std::vector<sdk::Location> StorageClient::find(const sdk::SectorRef& s, uint32_t types) {
  sdk::ErrorSink e;
  std::vector<sdk::Location> out;
  auto c = sdk::to_c(s);
  sealhost_status st = vt().find(inst_->handle(), &c, types, &collect_location, &out, e.c());
  if (st == SEALHOST_E_NOT_FOUND) return {};
  check(*inst_, st, e);
  return out;
}

void StorageClient::move(const sdk::SectorRef& s, uint32_t types, const std::string& dest,
                         JobState* job) {
  sdk::ErrorSink e;
  auto c = sdk::to_c(s);
  check(*inst_,
        vt().move(inst_->handle(), &c, types, sdk::to_str(dest), job ? job->c() : nullptr, e.c()),
        e);
}

void StorageClient::remove(const sdk::SectorRef& s, uint32_t types) {
  sdk::ErrorSink e;
  auto c = sdk::to_c(s);
  check(*inst_, vt().remove(inst_->handle(), &c, types, e.c()), e);
}

void StorageClient::read_range(const sdk::SectorRef& s, uint32_t type, std::string_view name,
                               uint64_t offset, uint8_t* buf, size_t len) {
  sdk::ErrorSink e;
  auto c = sdk::to_c(s);
  check(*inst_,
        vt().read_range(inst_->handle(), &c, type, sdk::to_str(name), offset, buf, len, e.c()), e);
}

StageClient::StageClient(std::shared_ptr<ComponentInstance> inst) : inst_(std::move(inst)) {
  if (inst_->desc().kind != SEALHOST_KIND_STAGE) {
    throw PluginError(SEALHOST_E_INVALID_ARGUMENT,
                      std::string("component ") + inst_->desc().id + " is not a stage component");
  }
}

std::string StageClient::stage() const {
  return inst_->vtable<sealhost_stage_vtable>().stage;
}

std::string StageClient::run(std::string_view input, JobState* job) {
  sdk::ErrorSink e;
  std::string out;
  const auto& vt = inst_->vtable<sealhost_stage_vtable>();
  check(*inst_,
        vt.run(inst_->handle(), sdk::to_str(input), job ? job->c() : nullptr, &collect_json, &out,
               e.c()),
        e);
  return out;
}

ComputeClient::ComputeClient(std::shared_ptr<ComponentInstance> inst) : inst_(std::move(inst)) {
  if (inst_->desc().kind != SEALHOST_KIND_COMPUTE) {
    throw PluginError(SEALHOST_E_INVALID_ARGUMENT,
                      std::string("component ") + inst_->desc().id + " is not a compute component");
  }
}

const sealhost_compute_vtable& ComputeClient::vt() const {
  return inst_->vtable<sealhost_compute_vtable>();
}

sdk::DeviceInfo ComputeClient::device_info() {
  sdk::ErrorSink e;
  std::vector<sdk::DeviceInfo> out;
  auto collect = [](void* ctx, const sealhost_compute_device_info* d) {
    static_cast<std::vector<sdk::DeviceInfo>*>(ctx)->push_back(sdk::from_c(*d));
  };
  check(*inst_, vt().device_info(inst_->handle(), collect, &out, e.c()), e);
  if (out.size() != 1) {
    throw PluginError(SEALHOST_E_INTERNAL, std::string("compute component ") + inst_->desc().id +
                                               " reported " + std::to_string(out.size()) +
                                               " devices from device_info (expected one)");
  }
  return std::move(out.front());
}

void ComputeClient::poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs,
                                   uint8_t* out, size_t n, JobState* job) {
  sdk::ErrorSink e;
  check(*inst_,
        vt().poseidon_batch(inst_->handle(), arity, tag, inputs, out, n, job ? job->c() : nullptr,
                            e.c()),
        e);
}

void ComputeClient::tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                               JobState* job) {
  sdk::ErrorSink e;
  check(
      *inst_,
      vt().tree_build(inst_->handle(), arity, leaves, n, rows_out, job ? job->c() : nullptr, e.c()),
      e);
}

void ComputeClient::sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n, JobState* job) {
  sdk::ErrorSink e;
  check(*inst_, vt().sha254_batch(inst_->handle(), pairs, out, n, job ? job->c() : nullptr, e.c()),
        e);
}

}  // namespace sealhost::host
