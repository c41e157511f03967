/* Compiled as strict C11: proves abi.h is valid C and reports sizes as a C compiler sees them. */
#include <sealhost/abi.h>

size_t sealhost_abi_c11_sizes(size_t index);

size_t sealhost_abi_c11_sizes(size_t index) {
  switch (index) {
    case 0: return sizeof(sealhost_plugin_descriptor);
    case 1: return sizeof(sealhost_component_desc);
    case 2: return sizeof(sealhost_storage_vtable);
    case 3: return sizeof(sealhost_option_value);
    default: return 0;
  }
}
