//! In-memory store for unit tests of the handler.

use std::sync::Mutex;

use timesheets::TimesheetEntry;

use super::{StoreError, StoredTimesheet, TimesheetStore};

/// Keeps timesheets in a vector; ids count up from 1.
#[derive(Debug, Default)]
pub struct MemoryStore {
    rows: Mutex<Vec<StoredTimesheet>>,
}

impl MemoryStore {
    /// Every stored timesheet, in insertion order.
    pub fn rows(&self) -> Vec<StoredTimesheet> {
        self.rows.lock().expect("store lock").clone()
    }
}

impl TimesheetStore for MemoryStore {
    async fn create(&self, entry: &TimesheetEntry, client_id: &str) -> Result<u64, StoreError> {
        let mut rows = self.rows.lock().expect("store lock");
        let id = rows.len() as u64 + 1;
        rows.push(StoredTimesheet {
            id,
            entry: entry.clone(),
            client_id: client_id.to_owned(),
        });
        Ok(id)
    }
}
