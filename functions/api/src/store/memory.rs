//! In-memory store for unit tests of the handler; same semantics as the DynamoDB adapter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use timesheets::TimesheetEntry;

use super::{Claim, IdempotencyRecord, Insert, StoreError, StoredTimesheet, TimesheetStore};

#[derive(Debug, Default)]
struct State {
    last_id: u64,
    rows: BTreeMap<u64, StoredTimesheet>,
    records: HashMap<String, IdempotencyRecord>,
    proofs: HashMap<String, i64>,
}

/// Keeps everything in maps behind a mutex; ids count up from 1.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
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
        let mut state = self.state();
        state.last_id += count;
        Ok(state.last_id - count + 1)
    }

    async fn insert_all(
        &self,
        first_id: u64,
        entries: &[TimesheetEntry],
        client_id: &str,
    ) -> Result<Insert, StoreError> {
        let mut state = self.state();
        let ids = first_id..first_id + entries.len() as u64;
        if ids.clone().any(|id| state.rows.contains_key(&id)) {
            return Ok(Insert::AlreadyStored);
        }
        for (id, entry) in ids.zip(entries) {
            let row = StoredTimesheet {
                id,
                entry: entry.clone(),
                client_id: client_id.to_owned(),
            };
            state.rows.insert(id, row);
        }
        Ok(Insert::Stored)
    }

    async fn is_stored(&self, id: u64) -> Result<bool, StoreError> {
        Ok(self.state().rows.contains_key(&id))
    }

    async fn find_record(&self, scope_key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.state().records.get(scope_key).cloned())
    }

    async fn claim(&self, record: &IdempotencyRecord, now: i64) -> Result<Claim, StoreError> {
        let mut state = self.state();
        match state.records.get(&record.scope_key) {
            Some(existing) if existing.expires_at >= now => Ok(Claim::Exists(existing.clone())),
            _ => {
                state
                    .records
                    .insert(record.scope_key.clone(), record.clone());
                Ok(Claim::Claimed)
            }
        }
    }

    async fn take_over(
        &self,
        scope_key: &str,
        previous_claimed_at: i64,
        claimed_at: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.records.get_mut(scope_key) {
            Some(record) if record.claimed_at == previous_claimed_at => {
                record.claimed_at = claimed_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, scope_key: &str) -> Result<(), StoreError> {
        self.state().records.remove(scope_key);
        Ok(())
    }

    async fn record_proof(&self, proof_id: &str, expires_at: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.proofs.contains_key(proof_id) {
            return Ok(false);
        }
        state.proofs.insert(proof_id.to_owned(), expires_at);
        Ok(true)
    }
}
