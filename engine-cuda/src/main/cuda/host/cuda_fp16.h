// <cuda_fp16.h> for the host build: __half, __half2 and their conversions are in cuda_host.h.
#pragma once
#include "cuda_host.h"
