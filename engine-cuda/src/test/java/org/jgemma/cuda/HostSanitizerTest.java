package org.jgemma.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The kernels under AddressSanitizer and UBSan (the {@code asan} build of build-host.sh, -fsanitize=address,undefined):
 * each run is a fresh JVM with libasan preloaded (ASan must come first in the process) running
 * {@link HostSanitizerMain}. A clean run of every kernel and a recorded decode must pass; a kernel reading past its
 * allocation and a misaligned float2 load must be stopped with the sanitizer's report. Bounded: a few seconds per
 * run, two minutes at most.
 */
class HostSanitizerTest {
    record Run(int exit, String output) {}

    static Run run(String mode) throws IOException, InterruptedException {
        String lib = System.getProperty("jgemma.cuda.host.asan", "");
        boolean built = !lib.isEmpty() && Files.isRegularFile(Path.of(lib));
        if (!built && System.getenv("CI") != null) fail("CI must build the sanitized CUDA host library (" + lib + ")");
        assumeTrue(built, () -> "the sanitized CUDA host library was not built (" + lib + "; needs g++ with libasan)");
        Process gxx = new ProcessBuilder("g++", "-print-file-name=libasan.so").redirectErrorStream(true).start();
        String asan = new String(gxx.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        gxx.waitFor();
        assumeTrue(Files.isRegularFile(Path.of(asan)), () -> "libasan.so not found (g++ -print-file-name: " + asan + ")");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xss4m", "-Djgemma.fixtures=" + System.getProperty("jgemma.fixtures", ""), "-cp", System.getProperty("java.class.path"),
                HostSanitizerMain.class.getName(), lib, mode));
        pb.environment().put("LD_PRELOAD", asan);
        // the JVM handles SEGV itself (safepoints, implicit null checks); leaks of the JVM are not ours
        pb.environment().put("ASAN_OPTIONS", "detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:detect_stack_use_after_return=0:abort_on_error=0");
        pb.environment().put("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("sanitized run " + mode + " took over two minutes");
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void everyKernelAndARecordedDecodeRunCleanUnderAsanAndUbsan() throws Exception {
        Run r = run("ops");
        assertEquals(0, r.exit(), () -> "sanitized run failed:\n" + r.output());
        assertTrue(r.output().contains("SANITIZED RUN COMPLETED: ops"), r.output());
        System.out.print(r.output().lines().filter(l -> l.startsWith("tiny decode")).findFirst().orElse("") + "\n");
    }

    @Test
    void aKernelReadingPastItsAllocationIsStopped() throws Exception {
        Run r = run("overflow");
        assertNotEquals(0, r.exit(), () -> "expected ASan to stop the run:\n" + r.output());
        assertTrue(r.output().contains("heap-buffer-overflow") && r.output().contains("copy_f32"), r.output());
    }

    @Test
    void aMisalignedVectorLoadIsStopped() throws Exception {
        Run r = run("misaligned");
        assertNotEquals(0, r.exit(), () -> "expected UBSan to stop the run:\n" + r.output());
        assertTrue(r.output().contains("misaligned address") && r.output().contains("mul_mv"), r.output());
    }
}
