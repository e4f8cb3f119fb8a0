//! The doctor's report: one [`Finding`] per line, `ok`, `WARN` or `FAIL` with what to do.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    pub what: String,
    /// What to do about it (none for `Ok`).
    pub todo: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        write!(f, "{tag} {}", self.what)?;
        if let Some(todo) = &self.todo {
            write!(f, " -> {todo}")?;
        }
        Ok(())
    }
}

/// The findings, in the order they were made.
#[derive(Debug, Default)]
pub struct Report(pub Vec<Finding>);

impl Report {
    pub(super) fn ok(&mut self, what: impl Into<String>) {
        self.push(Level::Ok, what, None::<String>);
    }

    pub(super) fn warn(&mut self, what: impl Into<String>, todo: impl Into<String>) {
        self.push(Level::Warn, what, Some(todo));
    }

    pub(super) fn fail(&mut self, what: impl Into<String>, todo: impl Into<String>) {
        self.push(Level::Fail, what, Some(todo));
    }

    fn push(&mut self, level: Level, what: impl Into<String>, todo: Option<impl Into<String>>) {
        self.0.push(Finding {
            level,
            what: what.into(),
            todo: todo.map(Into::into),
        });
    }

    /// Whether any finding failed.
    pub fn failed(&self) -> bool {
        self.0.iter().any(|f| f.level == Level::Fail)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.0 {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}
