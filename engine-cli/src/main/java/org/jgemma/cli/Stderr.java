package org.jgemma.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Gives the process its real standard error back. {@code bin/jgemma} starts the JVM with the terminal's stderr on
 * file descriptor 3 and descriptor 2 on /dev/null, so that the JDK's start-up line "WARNING: Using incubator modules:
 * jdk.incubator.vector" (printed before any Java code runs, jdk.internal.module.ModuleBootstrap.checkIncubatingStatus)
 * goes nowhere, without piping stderr through a filter (a pipe holds back the progress bar's {@code \r} redraws and
 * reorders stderr against stdout). {@link #restore} then makes descriptor 2 the real stderr again ({@code dup2(3, 2)}),
 * for Java's {@code System.err} and the JVM's own messages alike.
 */
final class Stderr {
    private Stderr() {}

    /** {@code dup2(fd, 2); close(fd)}; silent and harmless when it cannot (not POSIX, no native access). */
    static void restore(int fd) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle dup2 = linker.downcallHandle(linker.defaultLookup().find("dup2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            if ((int) dup2.invokeExact(fd, 2) == 2) {
                int ignored = (int) close.invokeExact(fd);
            }
        } catch (Throwable e) {
            // stderr stays where the launcher put it
        }
    }
}
