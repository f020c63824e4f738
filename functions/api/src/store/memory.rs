//! In-memory store for unit tests of the handler; same semantics as the DynamoDB adapter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::id_blocks::IdBlocks;
use super::{
    IdempotencyRecord, ProofRecord, StoreError, StoredTimesheet, TimesheetStore, UploadWrite,
    Written,
};

#[derive(Debug, Default)]
struct State {
    last_id: u64,
    rows: BTreeMap<u64, StoredTimesheet>,
    records: HashMap<String, IdempotencyRecord>,
    proofs: HashMap<String, i64>,
}

/// Keeps everything in maps behind a mutex; ids count up from 1 in blocks of one, and ids
/// given back are handed out again first.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    ids: IdBlocks,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            ids: IdBlocks::new(1),
        }
    }
}

impl MemoryStore {
    /// Every stored timesheet, by id.
    pub fn rows(&self) -> Vec<StoredTimesheet> {
        self.state().rows.values().cloned().collect()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("store lock")
    }
}

impl TimesheetStore for MemoryStore {
    async fn reserve_ids(&self, count: u64) -> Result<u64, StoreError> {
        let counter = |ids| {
            let mut state = self.state();
            state.last_id += ids;
            std::future::ready(Ok(state.last_id - ids + 1))
        };
        self.ids.reserve(count, counter).await
    }

    fn give_back_ids(&self, first_id: u64, count: u64) {
        self.ids.give_back(first_id..first_id + count);
    }

    async fn write(&self, write: &UploadWrite<'_>) -> Result<Written, StoreError> {
        let mut state = self.state();
        if let Some(proof) = write.proof
            && state.proofs.contains_key(&proof.proof_id)
        {
            return Ok(Written::ProofReplayed);
        }
        if let Some(record) = write.record
            && let Some(existing) = state.records.get(&record.scope_key)
            && existing.expires_at >= write.now
        {
            return Ok(Written::KeyRecorded(existing.clone()));
        }
        let ids = write.first_id..write.first_id + write.entries.len() as u64;
        if ids.clone().any(|id| state.rows.contains_key(&id)) {
            return Ok(Written::IdsTaken);
        }
        for (id, entry) in ids.zip(write.entries) {
            let row = StoredTimesheet {
                id,
                entry: entry.clone(),
                client_id: write.client_id.to_owned(),
            };
            state.rows.insert(id, row);
        }
        if let Some(record) = write.record {
            state
                .records
                .insert(record.scope_key.clone(), record.clone());
        }
        if let Some(proof) = write.proof {
            state
                .proofs
                .insert(proof.proof_id.clone(), proof.expires_at);
        }
        Ok(Written::Stored)
    }

    async fn record_proof(&self, proof: &ProofRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.proofs.contains_key(&proof.proof_id) {
            return Ok(false);
        }
        state
            .proofs
            .insert(proof.proof_id.clone(), proof.expires_at);
        Ok(true)
    }
}
