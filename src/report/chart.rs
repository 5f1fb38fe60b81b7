//! Charts: one description, drawn by the same code to PNG and SVG.
//!
//! A [`Figure`] is data plus labels; [`Figure::png`] and [`Figure::svg`]
//! render it with plotters. Text uses the DejaVu Sans face bundled into the
//! binary, so charts carry their labels on a machine with no system fonts.
//! Every figure is [`WIDTH`] × [`HEIGHT`] pixels. Non-finite inputs are
//! dropped and flat ranges are widened, so any data draws.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::io;
use std::path::Path;
use std::sync::Once;

/// Width of every figure, pixels.
pub const WIDTH: u32 = 1000;
/// Height of every figure, pixels.
pub const HEIGHT: u32 = 600;

const FONT: &str = "sans-serif";

/// Series colours, in order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Colour `i` of the palette (cycling).
fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A named line with error bars: (x, mean, half-width) points.
pub type ErrorSeries = (String, Vec<(f64, f64, f64)>);

/// A chart context over two f64 axes.
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One panel of a bar chart: a value (and optional error half-width) per category.
#[derive(Debug, Clone, PartialEq)]
pub struct BarPanel {
    /// Panel title, with its unit.
    pub title: String,
    /// One value per category.
    pub values: Vec<f64>,
    /// Error bar half-widths (e.g. 1.96 standard errors), or empty.
    pub errors: Vec<f64>,
}

/// What a figure shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Quantile bands over x: each entry is (x, [p5, p25, p50, p75, p95]).
    Fan(Vec<(f64, [f64; 5])>),
    /// Bins (lower edge, upper edge, count) and vertical marker lines (label, x).
    Histogram {
        /// Bins.
        bins: Vec<(f64, f64, u64)>,
        /// Marker lines.
        markers: Vec<(String, f64)>,
        /// A line of text drawn in the plot (e.g. "no bad debt on any path").
        note: String,
    },
    /// Named lines of (x, y) points.
    Lines(Vec<(String, Vec<(f64, f64)>)>),
    /// Panels of bars, one bar per category.
    Bars {
        /// Category names (x axis of every panel).
        categories: Vec<String>,
        /// Panels, drawn on a grid.
        panels: Vec<BarPanel>,
    },
    /// Cells of a grid: z is row-major over (y, x), `None` for a missing cell.
    Heatmap {
        /// Column labels (x).
        xs: Vec<String>,
        /// Row labels (y).
        ys: Vec<String>,
        /// Values, `ys.len() × xs.len()`.
        z: Vec<Option<f64>>,
        /// Label of the colour scale.
        z_label: String,
    },
    /// Named lines with error bars: (x, mean, half-width).
    ErrorBars(Vec<ErrorSeries>),
    /// Points (x, y, on the frontier); frontier points are joined and highlighted.
    Pareto(Vec<(f64, f64, bool)>),
}

/// A chart with its title and axis labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Title; names the scenario and seed.
    pub title: String,
    /// X axis label, with unit.
    pub x_label: String,
    /// Y axis label, with unit.
    pub y_label: String,
    /// The data.
    pub chart: Chart,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The bundled face is a valid TTF; a failure here would show as
            // a drawing error below, never as a panic.
            let _ = plotters::style::register_font(FONT, style, dejavu::sans::regular());
        }
    });
}

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> io::Error {
    io::Error::other(format!("cannot draw a chart: {e}"))
}

impl Figure {
    /// The figure as SVG text.
    ///
    /// # Errors
    /// If drawing fails.
    pub fn svg(&self) -> io::Result<String> {
        register_font();
        let mut s = String::new();
        {
            let root = SVGBackend::with_string(&mut s, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root).map_err(draw_err)?;
            root.present().map_err(draw_err)?;
        }
        Ok(s)
    }

    /// The figure as PNG bytes (8-bit RGB).
    ///
    /// # Errors
    /// If drawing or encoding fails.
    pub fn png(&self) -> io::Result<Vec<u8>> {
        register_font();
        let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root).map_err(draw_err)?;
            root.present().map_err(draw_err)?;
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(io::Error::other)?;
            w.write_image_data(&rgb).map_err(io::Error::other)?;
        }
        Ok(out)
    }

    /// Writes `<stem>.png` and `<stem>.svg` into `dir` (each atomically) and
    /// returns the SVG text.
    ///
    /// # Errors
    /// If drawing or writing fails.
    pub fn write(&self, dir: &Path, stem: &str) -> io::Result<String> {
        let svg = self.svg()?;
        super::write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        super::write_atomic(&dir.join(format!("{stem}.png")), &self.png()?)?;
        Ok(svg)
    }

    /// Title font size, pixels: smaller for long titles so they fit.
    fn title_size(&self) -> u32 {
        match self.title.chars().count() {
            0..=70 => 22,
            71..=85 => 18,
            _ => 15,
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        match &self.chart {
            Chart::Fan(points) => self.fan(root, points),
            Chart::Histogram { bins, markers, note } => self.histogram(root, bins, markers, note),
            Chart::Lines(series) => self.lines(root, series),
            Chart::Bars { categories, panels } => self.bars(root, categories, panels),
            Chart::Heatmap { xs, ys, z, z_label } => self.heatmap(root, xs, ys, z, z_label),
            Chart::ErrorBars(series) => self.error_bars(root, series),
            Chart::Pareto(points) => self.pareto(root, points),
        }
    }

    fn cartesian<'a, DB: DrawingBackend>(
        &self,
        root: &'a DrawingArea<DB, Shift>,
        x: (f64, f64),
        y: (f64, f64),
    ) -> Result<Plot<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
        let x = padded(x);
        let y = padded(y);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, self.title_size()))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&|v| axis_number(*v))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        Ok(chart)
    }

    fn fan<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        points: &[(f64, [f64; 5])],
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let pts: Vec<&(f64, [f64; 5])> = points
            .iter()
            .filter(|(x, q)| x.is_finite() && q.iter().all(|v| v.is_finite()))
            .collect();
        let x = range(pts.iter().map(|p| p.0));
        let y = range(pts.iter().flat_map(|p| p.1));
        let mut chart = self.cartesian(root, x, y)?;
        let blue = colour(0);
        for (lo, hi, alpha, label) in [(0, 4, 0.15, "p5 to p95"), (1, 3, 0.35, "p25 to p75")] {
            let band: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (p.0, p.1[hi]))
                .chain(pts.iter().rev().map(|p| (p.0, p.1[lo])))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, blue.mix(alpha).filled())))?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], blue.mix(alpha).filled()));
        }
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1[2])), blue.stroke_width(2)))?
            .label("median")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], blue.stroke_width(2)));
        legend(&mut chart)
    }

    fn histogram<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        bins: &[(f64, f64, u64)],
        markers: &[(String, f64)],
        note: &str,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let bins: Vec<_> = bins.iter().filter(|b| b.0.is_finite() && b.1.is_finite()).collect();
        let markers: Vec<_> = markers.iter().filter(|m| m.1.is_finite()).collect();
        let x = range(bins.iter().flat_map(|b| [b.0, b.1]).chain(markers.iter().map(|m| m.1)));
        let top = bins.iter().map(|b| b.2).max().unwrap_or(0).max(1) as f64;
        let mut chart = self.cartesian(root, x, (0.0, top * 1.08))?;
        let fill = colour(0).mix(0.6).filled();
        chart.draw_series(
            bins.iter()
                .map(|b| Rectangle::new([(b.0, 0.0), (b.1, b.2 as f64)], fill)),
        )?;
        for (i, (label, at)) in markers.iter().enumerate() {
            let c = colour(i + 1);
            chart
                .draw_series(LineSeries::new([(*at, 0.0), (*at, top * 1.08)], c.stroke_width(2)))?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2)));
        }
        if !note.is_empty() {
            let at = (padded(x).0 + 0.5 * (padded(x).1 - padded(x).0), top);
            let font = (FONT, 16)
                .into_font()
                .color(&BLACK)
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
            chart.draw_series(std::iter::once(Text::new(note.to_string(), at, font)))?;
        }
        if markers.is_empty() { Ok(()) } else { legend(&mut chart) }
    }

    fn lines<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        series: &[(String, Vec<(f64, f64)>)],
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let x = range(series.iter().flat_map(|s| s.1.iter().filter(finite).map(|p| p.0)));
        let y = range(series.iter().flat_map(|s| s.1.iter().filter(finite).map(|p| p.1)));
        let mut chart = self.cartesian(root, x, y)?;
        for (i, (name, pts)) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(pts.iter().filter(finite).copied(), c.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2)));
        }
        legend(&mut chart)
    }

    fn bars<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        categories: &[String],
        panels: &[BarPanel],
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let root = root.titled(&self.title, (FONT, self.title_size()))?;
        let cols = panels.len().clamp(1, 2);
        let rows = panels.len().div_ceil(cols).max(1);
        let areas = root.split_evenly((rows, cols));
        let n = categories.len();
        for (panel, area) in panels.iter().zip(&areas) {
            let vals: Vec<f64> = panel
                .values
                .iter()
                .map(|v| if v.is_finite() { *v } else { 0.0 })
                .collect();
            let err = |i: usize| panel.errors.get(i).copied().filter(|e| e.is_finite()).unwrap_or(0.0);
            let y = range(
                vals.iter()
                    .enumerate()
                    .flat_map(|(i, v)| [v + err(i), v - err(i)])
                    .chain([0.0]),
            );
            let y = padded((y.0, y.1 + 0.08 * (y.1 - y.0)));
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, (FONT, 16))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(70)
                .build_cartesian_2d((0..n.max(1) - 1).into_segmented(), y.0..y.1)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n.max(1))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                        categories.get(*i).cloned().unwrap_or_default()
                    }
                    SegmentValue::Last => String::new(),
                })
                .y_label_formatter(&|v| axis_number(*v))
                .label_style((FONT, 12))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            chart.draw_series(vals.iter().enumerate().map(|(i, v)| {
                let mut r = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *v)],
                    colour(i).mix(0.75).filled(),
                );
                r.set_margin(0, 0, 12, 12);
                r
            }))?;
            chart.draw_series(vals.iter().enumerate().filter(|(i, _)| err(*i) > 0.0).map(|(i, v)| {
                ErrorBar::new_vertical(
                    SegmentValue::CenterOf(i),
                    v - err(i),
                    *v,
                    v + err(i),
                    BLACK.filled(),
                    10,
                )
            }))?;
        }
        Ok(())
    }

    fn heatmap<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        xs: &[String],
        ys: &[String],
        z: &[Option<f64>],
        z_label: &str,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (main, bar) = root.split_horizontally(WIDTH - 130);
        let vals = || z.iter().flatten().copied().filter(|v| v.is_finite());
        let (lo, hi) = padded(range(vals()));
        let (nx, ny) = (xs.len(), ys.len());
        let mut chart = ChartBuilder::on(&main)
            .caption(&self.title, (FONT, self.title_size()))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d((0..nx.max(1) - 1).into_segmented(), (0..ny.max(1) - 1).into_segmented())?;
        let label = |names: &[String], v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(nx.max(1))
            .y_labels(ny.max(1))
            .x_label_formatter(&|v| label(xs, v))
            .y_label_formatter(&|v| label(ys, v))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 16))
            .draw()?;
        let cell = |i: usize, j: usize| z.get(j * nx + i).copied().flatten().filter(|v| v.is_finite());
        chart.draw_series((0..ny).flat_map(|j| (0..nx).map(move |i| (i, j))).map(|(i, j)| {
            let style = match cell(i, j) {
                Some(v) => scale_colour((v - lo) / (hi - lo)).filled(),
                None => RGBColor(200, 200, 200).filled(),
            };
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), SegmentValue::Exact(j)),
                    (SegmentValue::Exact(i + 1), SegmentValue::Exact(j + 1)),
                ],
                style,
            )
        }))?;
        if nx * ny <= 120 {
            let size = if nx <= 8 { 14 } else { 11 };
            chart.draw_series((0..ny).flat_map(|j| (0..nx).map(move |i| (i, j))).filter_map(|(i, j)| {
                let v = cell(i, j)?;
                let t = (v - lo) / (hi - lo);
                let ink = if t > 0.6 { BLACK } else { WHITE };
                Some(Text::new(
                    axis_number(v),
                    (SegmentValue::CenterOf(i), SegmentValue::CenterOf(j)),
                    (FONT, size)
                        .into_font()
                        .color(&ink)
                        .pos(plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Center,
                        )),
                ))
            }))?;
        }
        // The colour scale.
        let mut scale = ChartBuilder::on(&bar)
            .margin_top(60)
            .margin_bottom(68)
            .margin_right(10)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, lo..hi)?;
        scale
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(z_label)
            .y_label_formatter(&|v| axis_number(*v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()?;
        let steps = 64;
        scale.draw_series((0..steps).map(|k| {
            let a = lo + (hi - lo) * k as f64 / steps as f64;
            let b = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                scale_colour(k as f64 / (steps - 1) as f64).filled(),
            )
        }))?;
        Ok(())
    }

    fn error_bars<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        series: &[ErrorSeries],
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let ok = |p: &&(f64, f64, f64)| p.0.is_finite() && p.1.is_finite() && p.2.is_finite();
        let x = range(series.iter().flat_map(|s| s.1.iter().filter(ok).map(|p| p.0)));
        let y = range(
            series
                .iter()
                .flat_map(|s| s.1.iter().filter(ok).flat_map(|p| [p.1 - p.2, p.1 + p.2])),
        );
        let mut chart = self.cartesian(root, x, y)?;
        for (i, (name, pts)) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(
                    pts.iter().filter(ok).map(|p| (p.0, p.1)),
                    c.stroke_width(2),
                ))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2)));
            chart.draw_series(
                pts.iter()
                    .filter(ok)
                    .map(|p| ErrorBar::new_vertical(p.0, p.1 - p.2, p.1, p.1 + p.2, c.filled(), 8)),
            )?;
        }
        legend(&mut chart)
    }

    fn pareto<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        points: &[(f64, f64, bool)],
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let pts: Vec<_> = points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        let x = range(pts.iter().map(|p| p.0));
        let y = range(pts.iter().map(|p| p.1));
        let mut chart = self.cartesian(root, x, y)?;
        let grey = RGBColor(130, 130, 130);
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, grey.filled())))?
            .label("grid point")
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, grey.filled()));
        let mut front: Vec<(f64, f64)> = pts.iter().filter(|p| p.2).map(|p| (p.0, p.1)).collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0));
        let red = colour(1);
        chart.draw_series(LineSeries::new(front.iter().copied(), red.stroke_width(2)))?;
        chart
            .draw_series(front.iter().map(|p| Circle::new(*p, 6, red.filled())))?
            .label("Pareto frontier")
            .legend(move |(x, y)| Circle::new((x + 8, y), 6, red.filled()));
        legend(&mut chart)
    }
}

fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut Plot<'a, DB>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()
}

/// The smallest and largest of the finite values, or (0, 1) if there are none.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi { (0.0, 1.0) } else { (lo, hi) }
}

/// Widens a range by 3 % each side, or to a visible width if it is flat.
fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    let width = hi - lo;
    if width.is_nan() || width <= 1e-12 * lo.abs().max(hi.abs()).max(1e-300) {
        let d = (lo.abs() * 0.05).max(1e-9);
        return (lo - d, hi + d);
    }
    (lo - 0.03 * width, hi + 0.03 * width)
}

/// A colour on a blue-to-yellow scale for `t` in [0, 1] (viridis-like).
fn scale_colour(t: f64) -> RGBColor {
    const STOPS: [(f64, [f64; 3]); 5] = [
        (0.0, [68.0, 1.0, 84.0]),
        (0.25, [59.0, 82.0, 139.0]),
        (0.5, [33.0, 145.0, 140.0]),
        (0.75, [94.0, 201.0, 98.0]),
        (1.0, [253.0, 231.0, 37.0]),
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let k = STOPS.iter().rposition(|s| s.0 <= t).unwrap_or(0).min(STOPS.len() - 2);
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let f = (t - a.0) / (b.0 - a.0);
    let c = |i: usize| (a.1[i] + f * (b.1[i] - a.1[i])).round() as u8;
    RGBColor(c(0), c(1), c(2))
}

/// A compact axis number: 1.2M, 35k, 0.05, 1.5e-7.
pub fn axis_number(v: f64) -> String {
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if a >= 1e9 {
        format!("{:.3}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.3}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.3}k", v / 1e3)
    } else if a >= 1e-3 {
        format!("{v:.4}")
    } else {
        format!("{v:.2e}")
    };
    trim_zeros(&s)
}

fn trim_zeros(s: &str) -> String {
    let (num, suffix) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) if !s[i..].starts_with('e') => (&s[..i], &s[i..]),
        _ => (s, ""),
    };
    if num.contains('.') && !num.contains('e') {
        let t = num.trim_end_matches('0').trim_end_matches('.');
        format!("{t}{suffix}")
    } else {
        format!("{num}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_numbers_are_compact() {
        for (v, want) in [
            (0.0, "0"),
            (1_500_000.0, "1.5M"),
            (25_000.0, "25k"),
            (0.05, "0.05"),
            (-2.5e9, "-2.5B"),
            (1.5e-7, "1.50e-7"),
            (3.0, "3"),
        ] {
            assert_eq!(axis_number(v), want, "{v}");
        }
    }

    #[test]
    fn ranges_ignore_non_finite_values_and_widen_flat_ones() {
        assert_eq!(range([1.0, f64::NAN, 3.0, f64::INFINITY].into_iter()), (1.0, 3.0));
        assert_eq!(range(std::iter::empty()), (0.0, 1.0));
        let (lo, hi) = padded((2.0, 2.0));
        assert!(lo < 2.0 && hi > 2.0);
        let (lo, hi) = padded((0.0, 0.0));
        assert!(lo < 0.0 && hi > 0.0);
    }

    #[test]
    fn the_colour_scale_runs_from_purple_to_yellow() {
        assert_eq!(scale_colour(0.0), RGBColor(68, 1, 84));
        assert_eq!(scale_colour(1.0), RGBColor(253, 231, 37));
        assert_eq!(scale_colour(f64::NAN), RGBColor(68, 1, 84));
    }
}
