package org.jgemma.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.XYItemLabelGenerator;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The chart of {@code jgemma compare}: generation speed (tokens/s, one series per backend) against mean KL divergence
 * from the highest-precision file, each point's area proportional to the file size and labelled with its type.
 * Drawn with JFreeChart, headless, to a PNG.
 */
final class CompareChart {
    private CompareChart() {}

    /** One point: a label, x = mean KLD, y = tokens/s, the file size in bytes. */
    record Point(String label, double kld, double tokensPerSecond, long fileBytes) {}

    /** One series (a backend) of points. */
    record Series(String name, List<Point> points) {}

    static void write(Path png, String title, String yLabel, List<Series> series, int width, int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        long maxBytes = 1;
        for (Series s : series) {
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (Point p : s.points()) {
                xy.add(p.kld(), p.tokensPerSecond());
                maxBytes = Math.max(maxBytes, p.fileBytes());
            }
            data.addSeries(xy);
        }
        final long max = maxBytes;
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true) {
            @Override
            public Shape getItemShape(int row, int column) {
                double d = 6 + 30 * Math.sqrt((double) series.get(row).points().get(column).fileBytes() / max); // area ~ size
                return new Ellipse2D.Double(-d / 2, -d / 2, d, d);
            }
        };
        XYItemLabelGenerator labels = (ds, row, column) -> series.get(row).points().get(column).label();
        r.setDefaultItemLabelGenerator(labels);
        r.setDefaultItemLabelsVisible(true);
        r.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        Color[] colors = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};
        for (int i = 0; i < series.size(); i++) {
            r.setSeriesPaint(i, new Color(colors[i % colors.length].getRGB() & 0xFFFFFF | 0xA0000000, true));
            r.setSeriesOutlineStroke(i, new BasicStroke(1f));
        }
        r.setUseOutlinePaint(true);
        r.setDefaultOutlinePaint(Color.DARK_GRAY);
        NumberAxis x = new NumberAxis("mean KL divergence from the highest-precision file (lower is better)");
        x.setAutoRangeIncludesZero(true);
        x.setLowerMargin(0.06);
        x.setUpperMargin(0.08);
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(true);
        y.setUpperMargin(0.1);
        XYPlot plot = new XYPlot(data, x, y, r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 14), plot, true);
        chart.addSubtitle(new TextTitle("point area ~ file size"));
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, width, height);
    }
}
