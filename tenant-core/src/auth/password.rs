//! Argon2id password hashing with bounded concurrency and memory.
//!
//! Argon2id is slow and memory-hard on purpose: with the default parameters (RFC 9106's second
//! recommendation as the argon2 crate ships them: `m = 19 MiB, t = 2, p = 1`) each hash fills
//! 19 MiB. Run on tokio's blocking pool, a burst of anonymous logins started one hash per request
//! (up to 512 threads) and each allocation landed in a per-thread malloc arena that was never
//! returned: 64 concurrent wrong-password logins held 9 GB (issue 17). So hashing runs here, on
//! a fixed set of worker threads ([`Hashers`]), each owning one Argon2 memory buffer that it
//! reuses for every hash, behind a short queue; a request that finds the queue full is answered
//! 503 with `Retry-After` at once (API.md: "beyond the bound: 429 or 503"). Resident memory is
//! then at most `workers × 19 MiB` whatever the burst, and is given back once logins stop.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::ApiError;

/// Django's `MinimumLengthValidator` default (API.md: 8 to 1024 characters).
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longer passwords are refused before any hashing (API.md), so a client cannot make the server
/// digest megabytes per attempt.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The most memory a stored hash may ask for (in 1 KiB blocks): stored hashes are the server's
/// own, so this only guards against a corrupt row asking for gigabytes.
const MAX_BLOCKS: usize = 256 * 1024;

/// How long a worker keeps its Argon2 memory without a job before freeing it.
const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// Seconds a client is told to wait when every worker is busy and the queue is full.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

enum Work {
    Hash(String),
    /// The password and the stored PHC string (`None`: no such user; a dummy is verified so the
    /// answer takes as long).
    Verify(String, Option<String>),
}

enum Done {
    Hashed(String),
    Verified(bool),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Done, String>>,
}

/// The password hashing workers of one app: `workers` threads, each with its own reusable
/// Argon2 memory, and a queue of at most `queue` waiting requests. Cheap to clone; the threads
/// stop when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct Hashers {
    queue: SyncSender<Job>,
}

impl Hashers {
    /// Starts `workers` threads (at least one) behind a queue of `queue` requests.
    pub fn new(workers: usize, queue: usize) -> Hashers {
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..workers.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&receiver))
                .expect("a password hashing thread starts");
        }
        Hashers { queue: sender }
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) of `password` with a fresh
    /// random salt. 503 [`ApiError::Busy`] when the queue is full.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        match self.run(Work::Hash(password)).await? {
            Done::Hashed(phc) => Ok(phc),
            Done::Verified(_) => Err(ApiError::internal("a hash job answered a verification")),
        }
    }

    /// Whether `password` matches the stored PHC string. With `None` (an unknown user) it does
    /// the same work against a fixed hash and answers `false`, so response time does not reveal
    /// which emails have accounts. 503 [`ApiError::Busy`] when the queue is full.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        match self.run(Work::Verify(password, stored)).await? {
            Done::Verified(ok) => Ok(ok),
            Done::Hashed(_) => Err(ApiError::internal("a verification job answered a hash")),
        }
    }

    async fn run(&self, work: Work) -> Result<Done, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.queue.try_send(Job { work, reply }).map_err(|err| match err {
            TrySendError::Full(_) => ApiError::Busy(BUSY_RETRY_AFTER_SECS),
            TrySendError::Disconnected(_) => ApiError::internal("the password hashing workers stopped"),
        })?;
        answer
            .await
            .map_err(|_| ApiError::internal("a password hashing worker dropped its job"))?
            .map_err(ApiError::internal)
    }
}

/// A worker's loop: takes jobs until every sender is gone, reusing one memory buffer while jobs
/// keep coming and unmapping it after [`IDLE_RELEASE`] without one, so an idle server holds no
/// hashing memory.
fn work(receiver: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        // The lock is held only while waiting for the next job, never while hashing.
        let job = receiver.lock().unwrap_or_else(PoisonError::into_inner).recv_timeout(IDLE_RELEASE);
        let Job { work, reply } = match job {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                memory.release();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let done = match work {
            Work::Hash(password) => hash_with(&mut memory, password.as_bytes()).map(Done::Hashed),
            Work::Verify(password, stored) => {
                let known = stored.is_some();
                let stored = stored.as_deref().unwrap_or(DUMMY_HASH);
                verify_with(&mut memory, password.as_bytes(), stored).map(|ok| Done::Verified(ok && known))
            }
        };
        // The requester may have gone away (client disconnected): nothing to do then.
        let _ = reply.send(done);
    }
}

/// A worker's Argon2 memory, mapped from the kernel rather than taken from malloc: malloc keeps
/// freed blocks of this size in its arenas (the 9 GB of issue 17 were such blocks), while an
/// unmapped region is returned to the system at once. Grown when a hash needs more, never
/// shrunk while in use, unmapped by [`Memory::release`] or on drop.
#[derive(Default)]
struct Memory {
    map: Option<memmap2::MmapMut>,
}

impl Memory {
    /// The first `blocks` 1 KiB blocks.
    fn blocks(&mut self, blocks: usize) -> Result<&mut [Block], String> {
        if blocks > MAX_BLOCKS {
            return Err(format!("a password hash asks for {blocks} KiB of memory"));
        }
        let bytes = blocks * std::mem::size_of::<Block>();
        if self.map.as_ref().is_none_or(|map| map.len() < bytes) {
            self.map = None;
            self.map = Some(memmap2::MmapMut::map_anon(bytes.max(1)).map_err(|e| e.to_string())?);
        }
        let map = self.map.as_mut().ok_or("no hashing memory")?;
        // SAFETY: the mapping is page-aligned (Block needs 64) and at least `bytes` long, its
        // bytes are initialised (anonymous mappings are zero-filled, then only ever written as
        // Blocks), every bit pattern is a valid Block (128 `u64`s), and the slice borrows `map`
        // mutably, so nothing else reads or unmaps it meanwhile.
        Ok(unsafe { std::slice::from_raw_parts_mut(map.as_mut_ptr().cast::<Block>(), blocks) })
    }

    fn release(&mut self) {
        self.map = None;
    }
}

/// Hashes with the default parameters into `memory`; the PHC string of the result.
fn hash_with(memory: &mut Memory, password: &[u8]) -> Result<String, String> {
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let salt = argon2::password_hash::try_generate_salt().map_err(|e| e.to_string())?;
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    let memory = memory.blocks(params.block_count())?;
    argon2.hash_password_into_with_memory(password, &salt, &mut out, memory).map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Recomputes the stored hash's output for `password` with the stored parameters and salt, into
/// `memory`, and compares in constant time ([`Output`]'s `PartialEq`).
fn verify_with(memory: &mut Memory, password: &[u8], stored: &str) -> Result<bool, String> {
    let parsed = PasswordHash::new(stored).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| e.to_string())?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|e| e.to_string())?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err("a stored password hash without salt or output".into());
    };
    let mut out = vec![0u8; expected.len()];
    let memory = memory.blocks(params.block_count())?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt.as_ref(), &mut out, memory)
        .map_err(|e| e.to_string())?;
    Ok(Output::new(&out).map_err(|e| e.to_string())? == expected)
}

/// One hash on the calling thread, with memory of its own: for tools that seed users (the
/// benchmark), never for requests.
pub fn hash_blocking(password: &str) -> Result<String, String> {
    hash_with(&mut Memory::default(), password.as_bytes())
}

/// The Argon2id hash of a random string nobody knows, with the default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2mWsh7Tq9Dm1s5S3e0k6n8vC0bN2bq0Ndx0uGZ9bq1E";

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    #[tokio::test]
    async fn hash_then_verify() {
        let hashers = Hashers::new(1, 4);
        let h = hashers.hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(hashers.verify("correct horse".into(), Some(h.clone())).await.unwrap());
        assert!(!hashers.verify("wrong horse".into(), Some(h.clone())).await.unwrap());
        assert!(!hashers.verify("anything".into(), None).await.unwrap());
        // The argon2 crate's own verifier agrees: the PHC string is standard.
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        // And hashes made by the argon2 crate (as stored before) verify here.
        let theirs = argon2::PasswordHasher::hash_password(&Argon2::default(), b"old one").unwrap().to_string();
        assert!(hashers.verify("old one".into(), Some(theirs)).await.unwrap());
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_at_once() {
        // One worker, a queue of one: of many simultaneous requests, at most two are taken (one
        // hashing, one waiting) and the rest are refused without waiting.
        let hashers = Hashers::new(1, 1);
        let results = futures_join(&hashers, 8).await;
        let busy = results.iter().filter(|r| matches!(r, Err(ApiError::Busy(_)))).count();
        let done = results.iter().filter(|r| r.is_ok()).count();
        assert!(done >= 1 && busy >= 1 && done + busy == 8, "done {done}, busy {busy}");
        // Once the burst is over, hashing works again.
        assert!(hashers.hash("again".into()).await.is_ok());
    }

    async fn futures_join(hashers: &Hashers, n: usize) -> Vec<Result<String, ApiError>> {
        let mut handles = Vec::new();
        for i in 0..n {
            let hashers = hashers.clone();
            handles.push(tokio::spawn(async move { hashers.hash(format!("password {i}")).await }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}
