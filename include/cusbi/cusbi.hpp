// Umbrella header: everything a cusbi user needs. CUDA-free: compiles with plain g++.
#pragma once
#include "cusbi/device.hpp"
#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/io.hpp"
#include "cusbi/nn.hpp"
#include "cusbi/optim.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"
