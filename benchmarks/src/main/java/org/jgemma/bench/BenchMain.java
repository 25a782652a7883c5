package org.jgemma.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;

/**
 * Runs JMH with the usual command line (e.g. {@code -p format=Q4_K,Q8_0 -p backend=cpu MatVec}), then prints a table
 * with GB/s of packed weight bytes read per call and, when {@link CopyBandwidthBenchmark} ran in the same run, the
 * fraction of the machine's measured copy bandwidth. With no benchmark named it runs everything with defaults.
 */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions cmd = new CommandLineOptions(args);
        if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListProfilers() || cmd.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Options opts = cmd;
        Collection<RunResult> results = new Runner(opts).run();
        printTable(results);
    }

    static void printTable(Collection<RunResult> results) {
        double copyGbs = Double.NaN;
        List<String[]> rows = new ArrayList<>();
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            double us = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            Map<String, String> p = new TreeMap<>();
            for (String k : r.getParams().getParamsKeys()) p.put(k, r.getParams().getParam(k));
            long bytes = -1;
            if (bench.endsWith("DequantBenchmark.dequantize")) bytes = DequantBenchmark.bytesPerOp(p.get("format"));
            else if (bench.endsWith("MatVecBenchmark.matvec")) bytes = MatVecBenchmark.bytesPerOp(p.get("format"), p.get("shape"));
            else if (bench.endsWith("CopyBandwidthBenchmark.copy")) bytes = CopyBandwidthBenchmark.BYTES;
            double gbs = bytes > 0 ? bytes / (us * 1e-6) / 1e9 : Double.NaN;
            if (bench.endsWith("CopyBandwidthBenchmark.copy")) copyGbs = gbs;
            rows.add(new String[] {bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1), p.toString(),
                    String.format("%.1f ± %.1f", us, err), Double.isNaN(gbs) ? "" : String.format("%.2f", gbs)});
        }
        System.out.println();
        System.out.printf("%-32s %-60s %16s %8s %8s%n", "benchmark", "params", "us/op", "GB/s", "of copy");
        for (String[] row : rows) {
            String frac = "";
            if (!row[3].isEmpty() && !Double.isNaN(copyGbs)) frac = String.format("%.0f%%", 100 * Double.parseDouble(row[3]) / copyGbs);
            System.out.printf("%-32s %-60s %16s %8s %8s%n", row[0], row[1], row[2], row[3], frac);
        }
    }
}
