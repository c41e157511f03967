// sealhost plugin SDK: everything a plugin author includes.
#pragma once
#include <sealhost/abi.h>
#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/options.hpp>
#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/stage.hpp>
#include <sealhost/sdk/storage.hpp>
#include <sealhost/sdk/units.hpp>
