//! Hadoop streaming I/O: bounded line reading, `key\tvalue` lines, and the
//! `reporter:counter:` / `reporter:status:` lines a task writes on stderr.
//!
//! Counters are batched: each counter is written once its unreported increments reach its batch
//! size, whenever a status line is due, and at the end of the task — never once per record.
//! Counter names contain no commas (mrjob rewrites them).

use std::fmt;
use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

/// Counter group of every counter the programs write.
pub const COUNTER_GROUP: &str = "mhfz";

/// Malformed lines logged in full to stderr before the rest are only counted.
pub const MAX_LOGGED_BAD_LINES: u64 = 10;

/// One line of input, without its `\n` or `\r\n`.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'b> {
    Text(&'b [u8]),
    /// Longer than the reader's limit; its bytes were skipped, not buffered.
    TooLong {
        length: u64,
    },
}

/// Reads lines with bounded memory: a line longer than `max_line_bytes` is reported as
/// [`Line::TooLong`] and skipped without being held in memory.
pub struct LineReader<R> {
    input: R,
    max_line_bytes: usize,
    line_number: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(input: R, max_line_bytes: usize) -> LineReader<R> {
        LineReader {
            input,
            max_line_bytes,
            line_number: 0,
        }
    }

    /// 1-based number of the line last returned.
    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    /// The next line, read into `buffer` (reused between calls), or `None` at end of input.
    pub fn next_line<'b>(&mut self, buffer: &'b mut Vec<u8>) -> io::Result<Option<Line<'b>>> {
        buffer.clear();
        let mut length: u64 = 0;
        let mut too_long = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if length == 0 {
                    return Ok(None);
                }
                break;
            }
            let newline = memchr::memchr(b'\n', available);
            let taken = newline.map_or(available.len(), |at| at + 1);
            let content = taken - usize::from(newline.is_some());
            length += content as u64;
            if !too_long && buffer.len() + content <= self.max_line_bytes {
                buffer.extend_from_slice(&available[..taken]);
            } else if !too_long {
                too_long = true;
                buffer.clear();
            }
            self.input.consume(taken);
            if newline.is_some() {
                break;
            }
        }
        self.line_number += 1;
        if too_long {
            return Ok(Some(Line::TooLong { length }));
        }
        let mut text = buffer.as_slice();
        if let Some(rest) = text.strip_suffix(b"\n") {
            text = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        Ok(Some(Line::Text(text)))
    }
}

/// Splits a streaming line at its first tab, as Hadoop does; `None` if there is no tab.
pub fn split_key_value(line: &str) -> Option<(&str, &str)> {
    line.split_once('\t')
}

/// A counter registered with a [`Reporter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter(usize);

struct CounterState {
    name: &'static str,
    batch: u64,
    unreported: u64,
    total: u64,
}

/// How often a task reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportSettings {
    /// Unreported increments of the malformed-input counters that trigger a counter line.
    pub malformed_batch: u64,
    /// Minimum time between status lines (and the counter lines flushed with them).
    pub status_interval: Duration,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            malformed_batch: 1000,
            status_interval: Duration::from_secs(30),
        }
    }
}

/// Unreported increments of volume counters (records read, lines written) that trigger a
/// counter line; high, because these grow with every record.
pub const VOLUME_COUNTER_BATCH: u64 = 100_000;

/// Lines between clock reads when checking whether a status line is due.
const TICKS_PER_CLOCK_CHECK: u32 = 1024;

/// Writes Hadoop streaming counter and status lines, and log lines, to stderr (or any writer).
pub struct Reporter<W: Write> {
    out: W,
    program: &'static str,
    counters: Vec<CounterState>,
    status_interval: Duration,
    malformed_batch: u64,
    last_status: Instant,
    ticks: u32,
}

impl<W: Write> Reporter<W> {
    pub fn new(out: W, program: &'static str, settings: &ReportSettings) -> Reporter<W> {
        Reporter {
            out,
            program,
            counters: Vec::new(),
            status_interval: settings.status_interval,
            malformed_batch: settings.malformed_batch,
            last_status: Instant::now(),
            ticks: 0,
        }
    }

    /// Registers counter `name` (no commas), written every `batch` increments.
    pub fn counter(&mut self, name: &'static str, batch: u64) -> Counter {
        debug_assert!(
            !name.contains(',') && !name.contains('\n'),
            "bad counter name {name:?}"
        );
        self.counters.push(CounterState {
            name,
            batch: batch.max(1),
            unreported: 0,
            total: 0,
        });
        Counter(self.counters.len() - 1)
    }

    pub fn add(&mut self, counter: Counter, increment: u64) -> io::Result<()> {
        let state = &mut self.counters[counter.0];
        state.unreported += increment;
        state.total += increment;
        if state.unreported >= state.batch {
            self.flush_counter(counter.0)?;
        }
        Ok(())
    }

    /// Everything added to `counter` so far, reported or not.
    pub fn total(&self, counter: Counter) -> u64 {
        self.counters[counter.0].total
    }

    /// Call once per input line: writes a status line (built by `status`) and all unreported
    /// counters when the status interval has passed. Reads the clock only every 1024 calls.
    pub fn tick(&mut self, status: impl FnOnce() -> String) -> io::Result<()> {
        self.ticks += 1;
        if self.ticks < TICKS_PER_CLOCK_CHECK {
            return Ok(());
        }
        self.ticks = 0;
        if self.last_status.elapsed() >= self.status_interval {
            self.flush_counters()?;
            self.status(&status())?;
        }
        Ok(())
    }

    /// Writes `reporter:status:<program>: <message>`.
    pub fn status(&mut self, message: &str) -> io::Result<()> {
        self.last_status = Instant::now();
        writeln!(self.out, "reporter:status:{}: {message}", self.program)
    }

    /// Writes a log line, `<program>: <message>`.
    pub fn log(&mut self, message: fmt::Arguments<'_>) -> io::Result<()> {
        writeln!(self.out, "{}: {message}", self.program)
    }

    /// Writes every counter with unreported increments, then a final status line.
    pub fn finish(&mut self, status: &str) -> io::Result<()> {
        self.flush_counters()?;
        self.status(status)?;
        self.out.flush()
    }

    fn flush_counters(&mut self) -> io::Result<()> {
        (0..self.counters.len()).try_for_each(|index| self.flush_counter(index))
    }

    fn flush_counter(&mut self, index: usize) -> io::Result<()> {
        let state = &mut self.counters[index];
        if state.unreported == 0 {
            return Ok(());
        }
        let (name, amount) = (state.name, state.unreported);
        state.unreported = 0;
        writeln!(self.out, "reporter:counter:{COUNTER_GROUP},{name},{amount}")
    }
}

/// Reads a `reporter:counter:<group>,<name>,<amount>` line back: `(group, name, amount)`.
pub fn parse_counter_line(line: &str) -> Option<(&str, &str, u64)> {
    let mut parts = line.strip_prefix("reporter:counter:")?.splitn(3, ',');
    let (group, name) = (parts.next()?, parts.next()?);
    Some((group, name, parts.next()?.trim_end().parse().ok()?))
}

/// What a task does with a line it cannot use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadInputPolicy {
    /// Count it, log the first [`MAX_LOGGED_BAD_LINES`], go on.
    Skip,
    /// Fail the task on it.
    Fail,
}

/// Applies a [`BadInputPolicy`] to malformed lines, counting them in one counter.
pub struct BadLines {
    policy: BadInputPolicy,
    input_name: String,
    counter: Counter,
}

impl BadLines {
    /// Registers `counter_name` with the reporter's malformed-input batch size.
    pub fn new<W: Write>(
        reporter: &mut Reporter<W>,
        counter_name: &'static str,
        policy: BadInputPolicy,
        input_name: String,
    ) -> BadLines {
        let counter = reporter.counter(counter_name, reporter.malformed_batch);
        BadLines {
            policy,
            input_name,
            counter,
        }
    }

    /// Malformed lines seen so far.
    pub fn count<W: Write>(&self, reporter: &Reporter<W>) -> u64 {
        reporter.total(self.counter)
    }

    /// Counts (and maybe logs) a malformed line, or fails with it under [`BadInputPolicy::Fail`].
    pub fn handle<W: Write>(
        &mut self,
        reporter: &mut Reporter<W>,
        line: u64,
        reason: impl fmt::Display,
    ) -> Result<(), TaskError> {
        if self.policy == BadInputPolicy::Fail {
            return Err(TaskError::Malformed {
                input: self.input_name.clone(),
                line,
                reason: reason.to_string(),
            });
        }
        let seen = reporter.total(self.counter);
        if seen < MAX_LOGGED_BAD_LINES {
            reporter
                .log(format_args!(
                    "skipping malformed line {line} of {}: {reason}",
                    self.input_name
                ))
                .map_err(TaskError::Report)?;
            if seen + 1 == MAX_LOGGED_BAD_LINES {
                reporter
                    .log(format_args!("further malformed lines are only counted"))
                    .map_err(TaskError::Report)?;
            }
        }
        reporter.add(self.counter, 1).map_err(TaskError::Report)
    }
}

/// Why a mapper, combiner or reducer task stopped.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("reading {input} failed")]
    Read {
        input: String,
        #[source]
        source: io::Error,
    },
    #[error("writing the output failed")]
    Write(#[source] io::Error),
    #[error("writing counters and status to stderr failed")]
    Report(#[source] io::Error),
    #[error("{input} line {line}: {reason} (rerun without --strict to count and skip such lines)")]
    Malformed {
        input: String,
        line: u64,
        reason: String,
    },
    #[error(
        "{input} line {line}: key {key:?} sorts before the previous key {previous:?}; \
         the input must be sorted byte-wise (LC_ALL=C sort)"
    )]
    Unsorted {
        input: String,
        line: u64,
        key: String,
        previous: String,
    },
    #[error("{input} line {line}: key {key:?}")]
    Overflow {
        input: String,
        line: u64,
        key: String,
        #[source]
        source: crate::stats::OverflowError,
    },
}

/// Describes a malformed line's bytes: invalid UTF-8 as the offset of the first bad byte.
pub fn utf8_line(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Result<String, u64>> {
        let mut reader = LineReader::new(io::BufReader::with_capacity(4, input), max);
        let mut buffer = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = reader.next_line(&mut buffer).unwrap() {
            out.push(match line {
                Line::Text(text) => Ok(String::from_utf8(text.to_vec()).unwrap()),
                Line::TooLong { length } => Err(length),
            });
        }
        assert_eq!(reader.line_number(), out.len() as u64);
        out
    }

    #[test]
    fn reads_lines_across_buffer_boundaries() {
        assert_eq!(
            lines(b"first line\r\n\nlast", 100),
            [Ok("first line".into()), Ok("".into()), Ok("last".into())]
        );
        assert!(lines(b"", 100).is_empty());
    }

    #[test]
    fn skips_lines_over_the_limit_and_resynchronises() {
        assert_eq!(
            lines(b"12345\n123456789\n1234\n", 5),
            [Ok("12345".into()), Err(9), Ok("1234".into())]
        );
        assert_eq!(lines(b"123456789", 5), [Err(9)]);
    }

    fn reporter_output(run: impl FnOnce(&mut Reporter<&mut Vec<u8>>)) -> String {
        let mut out = Vec::new();
        let settings = ReportSettings {
            malformed_batch: 3,
            status_interval: Duration::ZERO,
        };
        let mut reporter = Reporter::new(&mut out, "test", &settings);
        run(&mut reporter);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn counters_are_written_in_batches() {
        let text = reporter_output(|reporter| {
            let bad = reporter.counter("bad_lines", 3);
            let good = reporter.counter("good_lines", 100);
            for _ in 0..7 {
                reporter.add(bad, 1).unwrap();
                reporter.add(good, 2).unwrap();
            }
            assert_eq!(reporter.total(bad), 7);
            reporter.finish("done").unwrap();
        });
        assert_eq!(
            text,
            "reporter:counter:mhfz,bad_lines,3\n\
             reporter:counter:mhfz,bad_lines,3\n\
             reporter:counter:mhfz,bad_lines,1\n\
             reporter:counter:mhfz,good_lines,14\n\
             reporter:status:test: done\n"
        );
    }

    #[test]
    fn status_lines_are_rate_limited_by_ticks() {
        let text = reporter_output(|reporter| {
            let good = reporter.counter("good_lines", 1_000_000);
            for _ in 0..(TICKS_PER_CLOCK_CHECK * 2 + 5) {
                reporter.add(good, 1).unwrap();
                reporter.tick(|| "working".into()).unwrap();
            }
        });
        assert_eq!(
            text,
            "reporter:counter:mhfz,good_lines,1024\n\
             reporter:status:test: working\n\
             reporter:counter:mhfz,good_lines,1024\n\
             reporter:status:test: working\n"
        );
    }

    #[test]
    fn bad_lines_are_logged_then_only_counted_or_fail_when_strict() {
        let text = reporter_output(|reporter| {
            let mut bad =
                BadLines::new(reporter, "malformed", BadInputPolicy::Skip, "input".into());
            for line in 1..=25 {
                bad.handle(reporter, line, "broken").unwrap();
            }
            reporter.finish("done").unwrap();
        });
        assert_eq!(text.matches("skipping malformed line").count(), 10);
        assert!(text.contains("skipping malformed line 10 of input: broken\n"));
        assert!(!text.contains("line 11 "));
        // Batches of 3 (the test settings): 8 full batches, then the remainder at the end.
        assert_eq!(
            text.matches("reporter:counter:mhfz,malformed,3\n").count(),
            8
        );
        assert!(text.ends_with("reporter:counter:mhfz,malformed,1\nreporter:status:test: done\n"));

        reporter_output(|reporter| {
            let mut strict =
                BadLines::new(reporter, "malformed", BadInputPolicy::Fail, "input".into());
            let err = strict.handle(reporter, 4, "broken").unwrap_err();
            assert_eq!(
                err.to_string(),
                "input line 4: broken (rerun without --strict to count and skip such lines)"
            );
        });
    }

    #[test]
    fn splits_at_the_first_tab() {
        assert_eq!(split_key_value("k\t1\t2"), Some(("k", "1\t2")));
        assert_eq!(split_key_value("no tab"), None);
        assert_eq!(utf8_line(b"ab\xffc"), Err("invalid UTF-8 at byte 3".into()));
    }

    #[test]
    fn counter_lines_parse_back() {
        assert_eq!(
            parse_counter_line("reporter:counter:mhfz,bad,12"),
            Some(("mhfz", "bad", 12))
        );
        assert_eq!(parse_counter_line("reporter:counter:mhfz,bad"), None);
        assert_eq!(parse_counter_line("reporter:status:x"), None);
    }
}
