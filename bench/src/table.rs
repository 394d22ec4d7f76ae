//! Markdown tables and number formatting.

/// A markdown table: a header, then rows of cells; the first column is
/// left-aligned, the others right-aligned.
pub struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Table {
            title: title.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.header.len(), "row width");
        self.rows.push(cells);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn print(&self) {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.header[c].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        println!("### {}\n", self.title);
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &w))| {
                    if i == 0 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            println!("| {} |", cells.join(" | "));
        };
        line(&self.header);
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                if i == 0 {
                    "-".repeat(w)
                } else {
                    format!("{}:", "-".repeat(w - 1))
                }
            })
            .collect();
        println!("| {} |", rule.join(" | "));
        for r in &self.rows {
            line(r);
        }
        // Each note is a paragraph of its own.
        for n in &self.notes {
            println!();
            println!("{n}");
        }
        println!();
    }
}

/// A time in nanoseconds, in a readable unit.
pub fn time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e4 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns >= 100.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.2} ns")
    }
}

/// A ratio, `a / b`.
pub fn ratio(a: f64, b: f64) -> String {
    if b <= 0.0 || !a.is_finite() || !b.is_finite() {
        return "-".to_string();
    }
    let r = a / b;
    if r >= 100.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.2}x")
    }
}

/// A signed difference in nanoseconds.
pub fn delta(ns: f64) -> String {
    let s = time(ns.abs());
    if ns < 0.0 {
        format!("-{s}")
    } else {
        format!("+{s}")
    }
}

/// Allocations per call.
pub fn allocs(per_call: f64) -> String {
    if per_call == 0.0 {
        "0".to_string()
    } else if per_call >= 10.0 {
        format!("{per_call:.0}")
    } else {
        format!("{per_call:.2}")
    }
}
