//! Group commit for redb: one writer thread runs every write of a database and commits the writes
//! that arrived together in one durable (fsynced) transaction. A write is answered only after its
//! transaction committed, so durability is unchanged; under concurrency the fsync cost is shared.
//!
//! Each write is a function of the transaction that checks before it writes. If any write of a
//! batch fails, the whole batch is rolled back and every write in it runs again alone, so a failed
//! write never commits half its changes alongside the others. Writes must therefore be `Fn`:
//! running one twice against the same state gives the same answer.

use std::any::Any;
use std::sync::Arc;
use std::thread::JoinHandle;

use redb::{Database, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

/// Most writes in one transaction.
const MAX_BATCH: usize = 256;

type Value = Box<dyn Any + Send>;
type Op<E> = Box<dyn Fn(&WriteTransaction) -> Result<Value, E> + Send>;

struct Job<E> {
    op: Op<E>,
    reply: oneshot::Sender<Result<Value, E>>,
}

/// How the writer reports its own failures (begin or commit failed) in the caller's error type.
pub trait WriterError: Send + 'static {
    fn backend(message: String) -> Self;
}

/// The handle to a database's writer thread. Dropping the last handle stops the thread and waits
/// for it, so the database file is closed when the owner is gone.
pub struct BatchWriter<E: WriterError> {
    tx: Option<mpsc::UnboundedSender<Job<E>>>,
    thread: Option<JoinHandle<()>>,
}

impl<E: WriterError> BatchWriter<E> {
    pub fn start(db: Arc<Database>, name: &str) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel::<Job<E>>();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-writer"))
            .spawn(move || run(&db, rx))?;
        Ok(BatchWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Runs `op` in a write transaction and answers once it is committed.
    pub async fn write<T: Send + 'static>(
        &self,
        op: impl Fn(&WriteTransaction) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let (reply, answer) = oneshot::channel();
        let op: Op<E> = Box::new(move |tx| op(tx).map(|v| Box::new(v) as Value));
        let sender = self
            .tx
            .as_ref()
            .ok_or_else(|| E::backend("writer stopped".into()))?;
        sender
            .send(Job { op, reply })
            .map_err(|_| E::backend("writer stopped".into()))?;
        let value = answer
            .await
            .map_err(|_| E::backend("writer stopped".into()))??;
        value
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| E::backend("writer answered the wrong type".into()))
    }
}

impl<E: WriterError> Drop for BatchWriter<E> {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run<E: WriterError>(db: &Database, mut rx: mpsc::UnboundedReceiver<Job<E>>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if batch.len() == 1 || !commit_together(db, &mut batch) {
            for job in batch {
                let result = commit_alone(db, &job.op);
                let _ = job.reply.send(result);
            }
        }
    }
}

/// Runs the whole batch in one transaction; on success answers every job and empties the batch.
/// Answers `false` (and leaves the batch) when a write failed, so the caller reruns them alone.
fn commit_together<E: WriterError>(db: &Database, batch: &mut Vec<Job<E>>) -> bool {
    let Ok(tx) = db.begin_write() else {
        return false;
    };
    let mut values = Vec::with_capacity(batch.len());
    for job in batch.iter() {
        match (job.op)(&tx) {
            Ok(v) => values.push(v),
            Err(_) => return false,
        }
    }
    if tx.commit().is_err() {
        return false;
    }
    for (job, value) in batch.drain(..).zip(values) {
        let _ = job.reply.send(Ok(value));
    }
    true
}

fn commit_alone<E: WriterError>(db: &Database, op: &Op<E>) -> Result<Value, E> {
    let tx = db.begin_write().map_err(|e| E::backend(e.to_string()))?;
    let value = op(&tx)?;
    tx.commit().map_err(|e| E::backend(e.to_string()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableDatabase, TableDefinition};

    const T: TableDefinition<u64, u64> = TableDefinition::new("t");

    #[derive(Debug, PartialEq)]
    struct Refused;

    impl WriterError for Refused {
        fn backend(_: String) -> Self {
            Refused
        }
    }

    /// Writes `k → k`; odd keys write first and then refuse, which must commit nothing of them.
    fn op(k: u64) -> impl Fn(&WriteTransaction) -> Result<u64, Refused> + Send + 'static {
        move |tx| {
            let mut t = tx.open_table(T).map_err(|_| Refused)?;
            t.insert(k, k).map_err(|_| Refused)?;
            if k % 2 == 1 { Err(Refused) } else { Ok(k) }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failed_write_commits_nothing_and_spoils_no_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Arc::new(Database::create(dir.path().join("w.redb")).expect("db"));
        let writer = Arc::new(BatchWriter::<Refused>::start(db.clone(), "test").expect("writer"));
        let mut tasks = tokio::task::JoinSet::new();
        for k in 0..200u64 {
            let w = writer.clone();
            tasks.spawn(async move { (k, w.write(op(k)).await) });
        }
        while let Some(r) = tasks.join_next().await {
            let (k, result) = r.expect("task");
            assert_eq!(
                result,
                if k % 2 == 1 { Err(Refused) } else { Ok(k) },
                "key {k}"
            );
        }
        let read = db.begin_read().expect("read");
        let t = read.open_table(T).expect("table");
        for k in 0..200u64 {
            let present = t.get(k).expect("get").is_some();
            assert_eq!(present, k % 2 == 0, "key {k}");
        }
    }
}
