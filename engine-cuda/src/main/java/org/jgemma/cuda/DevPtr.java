package org.jgemma.cuda;

/**
 * A device address: on the GPU a CUdeviceptr's value, on the host driver the address of host memory. Kernel arguments
 * that are pointers are passed as DevPtr (a {@code .u64} parameter), so {@link KernelArgs} can tell them from
 * {@code long long} values.
 */
record DevPtr(long address) {
    DevPtr plus(long bytes) {
        return bytes == 0 ? this : new DevPtr(Math.addExact(address, bytes));
    }

    @Override
    public String toString() {
        return "0x" + Long.toHexString(address);
    }
}
