// ABI layout snapshot (x86-64 Linux, LP64). A failure here means a change to abi.h moved or
// resized a field: that breaks every plugin already built. Append fields at the end of a struct
// and bump SEALHOST_ABI_MINOR instead, then add the new fields to this snapshot.
#include <sealhost/abi.h>

#include <gtest/gtest.h>

#include <cstddef>

// abi_c11_check.c includes abi.h as strict C11 and reports sizes seen by the C compiler.
extern "C" size_t sealhost_abi_c11_sizes(size_t index);

namespace {

#define SIZE_IS(T, n) EXPECT_EQ(sizeof(T), size_t{n}) << #T " changed size: ABI break"
#define FIELD_AT(T, f, n) EXPECT_EQ(offsetof(T, f), size_t{n}) << #T "." #f " moved: ABI break"

TEST(AbiLayout, VersionIsOnePointZero) {
  EXPECT_EQ(SEALHOST_ABI_MAJOR, 1);
  EXPECT_EQ(SEALHOST_ABI_MINOR, 1);
}

TEST(AbiLayout, Str) {
  SIZE_IS(sealhost_str, 16);
  FIELD_AT(sealhost_str, data, 0);
  FIELD_AT(sealhost_str, len, 8);
}

TEST(AbiLayout, Bytes) {
  SIZE_IS(sealhost_bytes, 16);
  FIELD_AT(sealhost_bytes, data, 0);
  FIELD_AT(sealhost_bytes, len, 8);
}

TEST(AbiLayout, ErrorSink) {
  SIZE_IS(sealhost_error_sink, 24);
  FIELD_AT(sealhost_error_sink, struct_size, 0);
  FIELD_AT(sealhost_error_sink, ctx, 8);
  FIELD_AT(sealhost_error_sink, set, 16);
}

TEST(AbiLayout, Job) {
  SIZE_IS(sealhost_job, 32);
  FIELD_AT(sealhost_job, struct_size, 0);
  FIELD_AT(sealhost_job, ctx, 8);
  FIELD_AT(sealhost_job, progress, 16);
  FIELD_AT(sealhost_job, cancelled, 24);
}

TEST(AbiLayout, HostServices) {
  SIZE_IS(sealhost_host_services, 56);
  FIELD_AT(sealhost_host_services, struct_size, 0);
  FIELD_AT(sealhost_host_services, abi_major, 4);
  FIELD_AT(sealhost_host_services, abi_minor, 8);
  FIELD_AT(sealhost_host_services, reserved0, 12);
  FIELD_AT(sealhost_host_services, ctx, 16);
  FIELD_AT(sealhost_host_services, log, 24);
  FIELD_AT(sealhost_host_services, log_enabled, 32);
  FIELD_AT(sealhost_host_services, host_version, 40);
  FIELD_AT(sealhost_host_services, get_component, 48);
}

TEST(AbiLayout, OptionDesc) {
  SIZE_IS(sealhost_option_desc, 80);
  FIELD_AT(sealhost_option_desc, struct_size, 0);
  FIELD_AT(sealhost_option_desc, type, 4);
  FIELD_AT(sealhost_option_desc, flags, 8);
  FIELD_AT(sealhost_option_desc, reserved0, 12);
  FIELD_AT(sealhost_option_desc, key, 16);
  FIELD_AT(sealhost_option_desc, default_value, 24);
  FIELD_AT(sealhost_option_desc, min, 32);
  FIELD_AT(sealhost_option_desc, max, 40);
  FIELD_AT(sealhost_option_desc, choices, 48);
  FIELD_AT(sealhost_option_desc, choices_len, 56);
  FIELD_AT(sealhost_option_desc, unit, 64);
  FIELD_AT(sealhost_option_desc, description, 72);
}

TEST(AbiLayout, OptionValue) {
  SIZE_IS(sealhost_option_value, 72);
  FIELD_AT(sealhost_option_value, struct_size, 0);
  FIELD_AT(sealhost_option_value, type, 4);
  FIELD_AT(sealhost_option_value, key, 8);
  FIELD_AT(sealhost_option_value, b, 16);
  FIELD_AT(sealhost_option_value, reserved0, 20);
  FIELD_AT(sealhost_option_value, i, 24);
  FIELD_AT(sealhost_option_value, d, 32);
  FIELD_AT(sealhost_option_value, s, 40);
  FIELD_AT(sealhost_option_value, list, 56);
  FIELD_AT(sealhost_option_value, list_len, 64);
}

TEST(AbiLayout, Options) {
  SIZE_IS(sealhost_options, 24);
  FIELD_AT(sealhost_options, struct_size, 0);
  FIELD_AT(sealhost_options, reserved0, 4);
  FIELD_AT(sealhost_options, values, 8);
  FIELD_AT(sealhost_options, len, 16);
}

TEST(AbiLayout, SectorRef) {
  SIZE_IS(sealhost_sector_ref, 32);
  FIELD_AT(sealhost_sector_ref, struct_size, 0);
  FIELD_AT(sealhost_sector_ref, reserved0, 4);
  FIELD_AT(sealhost_sector_ref, miner, 8);
  FIELD_AT(sealhost_sector_ref, number, 16);
  FIELD_AT(sealhost_sector_ref, sector_size, 24);
}

TEST(AbiLayout, StoragePathInfo) {
  SIZE_IS(sealhost_storage_path_info, 96);
  FIELD_AT(sealhost_storage_path_info, struct_size, 0);
  FIELD_AT(sealhost_storage_path_info, can_seal, 4);
  FIELD_AT(sealhost_storage_path_info, can_store, 8);
  FIELD_AT(sealhost_storage_path_info, reserved0, 12);
  FIELD_AT(sealhost_storage_path_info, id, 16);
  FIELD_AT(sealhost_storage_path_info, location, 32);
  FIELD_AT(sealhost_storage_path_info, weight, 48);
  FIELD_AT(sealhost_storage_path_info, max_storage, 56);
  FIELD_AT(sealhost_storage_path_info, capacity, 64);
  FIELD_AT(sealhost_storage_path_info, available, 72);
  FIELD_AT(sealhost_storage_path_info, reserved, 80);
  FIELD_AT(sealhost_storage_path_info, used, 88);
}

TEST(AbiLayout, StorageAttachParams) {
  SIZE_IS(sealhost_storage_attach_params, 48);
  FIELD_AT(sealhost_storage_attach_params, struct_size, 0);
  FIELD_AT(sealhost_storage_attach_params, init, 4);
  FIELD_AT(sealhost_storage_attach_params, can_seal, 8);
  FIELD_AT(sealhost_storage_attach_params, can_store, 12);
  FIELD_AT(sealhost_storage_attach_params, location, 16);
  FIELD_AT(sealhost_storage_attach_params, weight, 32);
  FIELD_AT(sealhost_storage_attach_params, max_storage, 40);
}

TEST(AbiLayout, SectorLocation) {
  SIZE_IS(sealhost_sector_location, 48);
  FIELD_AT(sealhost_sector_location, struct_size, 0);
  FIELD_AT(sealhost_sector_location, file_type, 4);
  FIELD_AT(sealhost_sector_location, path_id, 8);
  FIELD_AT(sealhost_sector_location, local_path, 24);
  FIELD_AT(sealhost_sector_location, size, 40);
}

TEST(AbiLayout, StorageVtable) {
  SIZE_IS(sealhost_storage_vtable, 88);
  FIELD_AT(sealhost_storage_vtable, struct_size, 0);
  FIELD_AT(sealhost_storage_vtable, reserved0, 4);
  FIELD_AT(sealhost_storage_vtable, attach, 8);
  FIELD_AT(sealhost_storage_vtable, detach, 16);
  FIELD_AT(sealhost_storage_vtable, list, 24);
  FIELD_AT(sealhost_storage_vtable, stat, 32);
  FIELD_AT(sealhost_storage_vtable, allocate, 40);
  FIELD_AT(sealhost_storage_vtable, release, 48);
  FIELD_AT(sealhost_storage_vtable, find, 56);
  FIELD_AT(sealhost_storage_vtable, move, 64);
  FIELD_AT(sealhost_storage_vtable, remove, 72);
  FIELD_AT(sealhost_storage_vtable, read_range, 80);
}

TEST(AbiLayout, StageVtable) {
  SIZE_IS(sealhost_stage_vtable, 24);
  FIELD_AT(sealhost_stage_vtable, struct_size, 0);
  FIELD_AT(sealhost_stage_vtable, reserved0, 4);
  FIELD_AT(sealhost_stage_vtable, stage, 8);
  FIELD_AT(sealhost_stage_vtable, run, 16);
}

TEST(AbiLayout, ComputeDeviceInfo) {
  SIZE_IS(sealhost_compute_device_info, 48);
  FIELD_AT(sealhost_compute_device_info, struct_size, 0);
  FIELD_AT(sealhost_compute_device_info, compute_units, 4);
  FIELD_AT(sealhost_compute_device_info, name, 8);
  FIELD_AT(sealhost_compute_device_info, backend, 24);
  FIELD_AT(sealhost_compute_device_info, memory_bytes, 40);
}

TEST(AbiLayout, ComputeVtable) {
  SIZE_IS(sealhost_compute_vtable, 40);
  FIELD_AT(sealhost_compute_vtable, struct_size, 0);
  FIELD_AT(sealhost_compute_vtable, reserved0, 4);
  FIELD_AT(sealhost_compute_vtable, device_info, 8);
  FIELD_AT(sealhost_compute_vtable, poseidon_batch, 16);
  FIELD_AT(sealhost_compute_vtable, tree_build, 24);
  FIELD_AT(sealhost_compute_vtable, sha254_batch, 32);
}

TEST(AbiLayout, PostVtable) {
  SIZE_IS(sealhost_post_vtable, 24);
  FIELD_AT(sealhost_post_vtable, struct_size, 0);
  FIELD_AT(sealhost_post_vtable, reserved0, 4);
  FIELD_AT(sealhost_post_vtable, strategy, 8);
  FIELD_AT(sealhost_post_vtable, call, 16);
}

TEST(AbiLayout, ChainVtable) {
  SIZE_IS(sealhost_chain_vtable, 16);
  FIELD_AT(sealhost_chain_vtable, struct_size, 0);
  FIELD_AT(sealhost_chain_vtable, reserved0, 4);
  FIELD_AT(sealhost_chain_vtable, call, 8);
}

TEST(AbiLayout, ComponentDesc) {
  SIZE_IS(sealhost_component_desc, 72);
  FIELD_AT(sealhost_component_desc, struct_size, 0);
  FIELD_AT(sealhost_component_desc, kind, 4);
  FIELD_AT(sealhost_component_desc, flags, 8);
  FIELD_AT(sealhost_component_desc, reserved0, 12);
  FIELD_AT(sealhost_component_desc, id, 16);
  FIELD_AT(sealhost_component_desc, description, 24);
  FIELD_AT(sealhost_component_desc, options, 32);
  FIELD_AT(sealhost_component_desc, options_len, 40);
  FIELD_AT(sealhost_component_desc, create, 48);
  FIELD_AT(sealhost_component_desc, destroy, 56);
  FIELD_AT(sealhost_component_desc, vtable, 64);
}

TEST(AbiLayout, PluginDescriptor) {
  SIZE_IS(sealhost_plugin_descriptor, 72);
  FIELD_AT(sealhost_plugin_descriptor, struct_size, 0);
  FIELD_AT(sealhost_plugin_descriptor, abi_major, 4);
  FIELD_AT(sealhost_plugin_descriptor, abi_minor, 8);
  FIELD_AT(sealhost_plugin_descriptor, maturity, 12);
  FIELD_AT(sealhost_plugin_descriptor, id, 16);
  FIELD_AT(sealhost_plugin_descriptor, version, 24);
  FIELD_AT(sealhost_plugin_descriptor, license, 32);
  FIELD_AT(sealhost_plugin_descriptor, description, 40);
  FIELD_AT(sealhost_plugin_descriptor, components, 48);
  FIELD_AT(sealhost_plugin_descriptor, components_len, 56);
  FIELD_AT(sealhost_plugin_descriptor, init, 64);
}

TEST(AbiLayout, CompilesAsC11) {
  EXPECT_EQ(sealhost_abi_c11_sizes(0), sizeof(sealhost_plugin_descriptor));
  EXPECT_EQ(sealhost_abi_c11_sizes(1), sizeof(sealhost_component_desc));
  EXPECT_EQ(sealhost_abi_c11_sizes(2), sizeof(sealhost_storage_vtable));
  EXPECT_EQ(sealhost_abi_c11_sizes(3), sizeof(sealhost_option_value));
}

}  // namespace
