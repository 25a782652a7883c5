package org.jgemma.cuda;

import java.util.function.IntSupplier;
import jcuda.CudaException;
import jcuda.driver.CUresult;

/**
 * Checked driver calls (STYLE 13, like ggml's CUDA_CHECK): every call goes through {@link #call} with a description
 * of what it was doing, so a failure reads e.g. {@code cuMemAlloc(blk.3.ffn_up.weight, 26542080 bytes):
 * CUDA_ERROR_OUT_OF_MEMORY}. JCuda's own exceptions are enabled as well and are rewrapped with that context.
 */
final class Cu {
    private Cu() {}

    /** A failed CUDA driver call: the call, its context and the driver's error name. */
    static final class CallException extends RuntimeException {
        CallException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static void call(String what, IntSupplier f) {
        int r;
        try {
            r = f.getAsInt();
        } catch (CudaException e) {
            throw new CallException(what + ": " + e.getMessage(), e);
        }
        if (r != CUresult.CUDA_SUCCESS) throw new CallException(what + ": " + CUresult.stringFor(r), null);
    }
}
