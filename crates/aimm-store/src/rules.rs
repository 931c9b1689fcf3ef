//! The [`Store`] contract, written once for every SQL [`Backend`]: schema migration, the
//! required-row checks, programs deduplicated by digest, a run finished only once, sealing and
//! ledger appends in the same transaction, ledger reads checked against the stored hashes, and
//! one checkpoint note per size. The backends only run the statements of [`Rows`].

use crate::backend::{
    collect, event_record, parse_json, run_record, segment_meta, signal_summary, stored_checkpoint,
    user_record, Backend, EventRow, Exists, Overlapping, Rows, RunRow, SegmentRow, SegmentsWhere,
    UserRow, UsersWhere, BLOB_COLUMN, SCHEMA_VERSION,
};
use crate::downsample::Downsampled;
use crate::error::{Result, StoreError};
use crate::ledger_log;
use crate::op_error::{OpError, OpResult};
use crate::seal::seal_batch;
use crate::segment_read::{samples_in_range, verify_blob};
use crate::store::{
    Appended, EventRecord, LedgerEntry, NewRun, Program, ProgramId, ProgramRecord, RunId,
    RunRecord, SegmentId, SegmentMeta, SignalSummary, Store, StoredCheckpoint, UserRecord,
};
use aimm_ledger::record::Origin;
use aimm_ledger::{Hash, MerkleTree, ProofError, Record};
use aimm_model::{Event, MachineId, MachineSpec, SignalKind, SignalSeries, TimeNs, ToolSpec};
use sha2::{Digest, Sha256};

/// Leaves fetched per query when streaming ledger entries, so that the callback runs with the
/// connection free (it may use the store) and memory stays bounded.
const ENTRY_CHUNK: u64 = 1_000;

/// Brings the schema to [`SCHEMA_VERSION`] in one transaction, so that concurrent openers of a
/// new database wait for the first and a failed migration leaves the old version intact. Fails
/// with [`StoreError::SchemaTooNew`] on a database written by a newer aimm.
pub(crate) fn migrate(store: &mut impl Backend) -> Result<()> {
    let db = store.db().to_string();
    store.write("migrate schema", |c| {
        c.lock_schema()?;
        c.create_schema_version_table()?;
        let found = c.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                db,
                found,
                supported: SCHEMA_VERSION,
            }
            .into());
        }
        if found < SCHEMA_VERSION {
            for sql in &c.migrations()[found as usize..] {
                c.batch(sql)?;
            }
            c.set_schema_version(SCHEMA_VERSION)?;
        }
        Ok(())
    })
}

/// Fails with `missing()` unless `row` exists.
fn require(
    c: &mut dyn Rows,
    row: Exists<'_>,
    missing: impl FnOnce() -> StoreError,
) -> OpResult<()> {
    if c.exists(row)? {
        Ok(())
    } else {
        Err(missing().into())
    }
}

fn require_run(c: &mut dyn Rows, db: &str, op: &'static str, run: Option<RunId>) -> OpResult<()> {
    match run {
        None => Ok(()),
        Some(id) => require(c, Exists::Run(id.0), || StoreError::RunNotFound {
            db: db.to_string(),
            op,
            id,
        }),
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("aimm model types and JSON values always serialize")
}

/// The segments of `machine`'s `signal` overlapping `[t0_ns, t1_ns)`.
fn overlapping(
    machine: &MachineId,
    signal: SignalKind,
    t0_ns: TimeNs,
    t1_ns: TimeNs,
) -> SegmentsWhere<'_> {
    SegmentsWhere::Overlapping(Overlapping {
        machine: machine.as_str(),
        signal: signal.name(),
        t0_ns,
        t1_ns,
    })
}

/// Reads segment `id` with its blob.
fn segment_row(
    store: &impl Backend,
    op: &'static str,
    id: SegmentId,
) -> Result<(SegmentMeta, Vec<u8>)> {
    let db = store.db();
    store.read(op, |c| {
        collect(
            |each| c.segments(SegmentsWhere::Id(id.0), true, each),
            |row| Ok((segment_meta(db, row)?, row.bytes(BLOB_COLUMN)?)),
        )?
        .pop()
        .ok_or_else(|| {
            StoreError::SegmentNotFound {
                db: db.to_string(),
                op,
                id,
            }
            .into()
        })
    })
}

/// Runs `f` on the Merkle tree after catching it up with the stored leaves.
fn with_tree<T>(
    store: &impl Backend,
    op: &'static str,
    f: impl FnOnce(&MerkleTree) -> std::result::Result<T, ProofError>,
) -> Result<T> {
    let db = store.db();
    let mut tree = store.tree().borrow_mut();
    store.read(op, |c| {
        let size = c.ledger_size()?;
        let rows = collect(
            |each| c.leaves(tree.size(), size, false, each),
            |r| Ok((r.int(0)? as u64, r.bytes(1)?)),
        )?;
        ledger_log::catch_up(db, &mut tree, size, rows.into_iter().map(Ok))
    })?;
    f(&tree).map_err(|source| StoreError::LedgerRange {
        db: db.to_string(),
        op,
        source,
    })
}

/// Streams leaves `[from, to)` to `f`, after checking the range lies within the log.
fn each_entry(
    store: &impl Backend,
    op: &'static str,
    from: u64,
    to: u64,
    f: &mut dyn FnMut(LedgerEntry) -> Result<()>,
) -> Result<()> {
    let db = store.db();
    let size = store.read(op, |c| c.ledger_size())?;
    ledger_log::check_range(db, op, from, to, size)?;
    let mut expected = from;
    while expected < to {
        let end = to.min(expected + ENTRY_CHUNK);
        let rows = store.read(op, |c| {
            collect(
                |each| c.leaves(expected, end, true, each),
                |r| Ok((r.int(0)? as u64, r.bytes(1)?, r.bytes(2)?)),
            )
        })?;
        for (index, hash, bytes) in rows {
            f(ledger_log::checked_entry(db, expected, index, hash, bytes)?)?;
            expected += 1;
        }
        if expected != end {
            return Err(ledger_log::corrupt_leaf(db, expected, "missing"));
        }
    }
    Ok(())
}

/// Checkpoints ordered by size; only the largest when `latest_only`.
fn stored_checkpoints(
    store: &impl Backend,
    op: &'static str,
    latest_only: bool,
) -> Result<Vec<StoredCheckpoint>> {
    store.read(op, |c| {
        collect(|each| c.checkpoints(latest_only, each), stored_checkpoint)
    })
}

impl<B: Backend> Store for B {
    fn location(&self) -> &str {
        self.db()
    }

    fn schema_version(&self) -> Result<i64> {
        self.read("read schema version", |c| c.schema_version())
    }

    fn put_machine(&mut self, spec: &MachineSpec) -> Result<()> {
        self.write("put_machine", |c| {
            c.upsert_machine(spec.id.as_str(), &to_json(spec))
        })
    }

    fn machines(&self) -> Result<Vec<MachineSpec>> {
        let db = self.db();
        self.read("machines", |c| {
            collect(
                |each| c.machines(each),
                |row| parse_json(db, "machines", row.text(0)?, &row.text(1)?),
            )
        })
    }

    fn put_tool(&mut self, machine: &MachineId, tool: &ToolSpec) -> Result<()> {
        let db = self.db().to_string();
        self.write("put_tool", |c| {
            require(c, Exists::Machine(machine.as_str()), || {
                StoreError::MachineNotFound {
                    db,
                    op: "put_tool",
                    machine: machine.to_string(),
                }
            })?;
            c.upsert_tool(machine.as_str(), i64::from(tool.number), &to_json(tool))
        })
    }

    fn tools(&self, machine: &MachineId) -> Result<Vec<ToolSpec>> {
        let db = self.db();
        self.read("tools", |c| {
            collect(
                |each| c.tools(machine.as_str(), each),
                |row| {
                    let key = format!("{machine}/T{}", row.int(0)?);
                    parse_json(db, "tools", key, &row.text(1)?)
                },
            )
        })
    }

    fn put_program(&mut self, name: &str, content: &str) -> Result<ProgramRecord> {
        let digest: [u8; 32] = Sha256::digest(content.as_bytes()).into();
        self.write("put_program", |c| {
            c.insert_program_if_new(name, &digest, content)?;
            let stored = collect(
                |each| c.program_by_digest(&digest, each),
                |row| Ok((row.int(0)?, row.text(1)?)),
            )?;
            let (id, stored_name) = stored
                .into_iter()
                .next()
                .expect("the program was inserted or found in this transaction");
            Ok(ProgramRecord {
                id: ProgramId(id),
                name: stored_name,
                sha256_hex: hex::encode(digest),
                bytes: content.len() as u64,
            })
        })
    }

    fn program_by_digest(&self, sha256: &[u8; 32]) -> Result<Option<Program>> {
        self.read("program_by_digest", |c| {
            Ok(collect(
                |each| c.program_by_digest(sha256, each),
                |row| {
                    let content = row.text(2)?;
                    Ok(Program {
                        record: ProgramRecord {
                            id: ProgramId(row.int(0)?),
                            name: row.text(1)?,
                            sha256_hex: hex::encode(sha256),
                            bytes: content.len() as u64,
                        },
                        content,
                    })
                },
            )?
            .pop())
        })
    }

    fn program(&self, id: ProgramId) -> Result<Program> {
        let db = self.db();
        self.read("program", |c| {
            collect(
                |each| c.program(id.0, each),
                |row| {
                    let content = row.text(2)?;
                    Ok(Program {
                        record: ProgramRecord {
                            id,
                            name: row.text(0)?,
                            sha256_hex: hex::encode(row.bytes(1)?),
                            bytes: content.len() as u64,
                        },
                        content,
                    })
                },
            )?
            .pop()
            .ok_or_else(|| {
                StoreError::ProgramNotFound {
                    db: db.to_string(),
                    op: "program",
                    id,
                }
                .into()
            })
        })
    }

    fn start_run(&mut self, run: &NewRun) -> Result<RunId> {
        let db = self.db().to_string();
        self.write("start_run", |c| {
            if let Some(id) = run.program_id {
                require(c, Exists::Program(id.0), || StoreError::ProgramNotFound {
                    db,
                    op: "start_run",
                    id,
                })?;
            }
            let id = c.insert_run(&RunRow {
                machine: run.machine.as_str(),
                program_id: run.program_id.map(|p| p.0),
                material: &run.material,
                seed: run.seed as i64,
                t_start_ns: run.t_start_ns,
                params_json: &to_json(&run.params_json),
            })?;
            Ok(RunId(id))
        })
    }

    fn finish_run(
        &mut self,
        run: RunId,
        t_end_ns: TimeNs,
        result_json: &serde_json::Value,
    ) -> Result<()> {
        let db = self.db().to_string();
        self.write("finish_run", |c| match c.run_end_for_update(run.0)? {
            None => Err(StoreError::RunNotFound {
                db,
                op: "finish_run",
                id: run,
            }
            .into()),
            Some(Some(t_end_ns)) => Err(StoreError::RunAlreadyFinished {
                db,
                id: run,
                t_end_ns,
            }
            .into()),
            Some(None) => c.set_run_end(run.0, t_end_ns, &to_json(result_json)),
        })
    }

    fn runs(&self, machine: Option<&MachineId>) -> Result<Vec<RunRecord>> {
        let db = self.db();
        self.read("runs", |c| {
            collect(
                |each| c.runs(machine.map(MachineId::as_str), each),
                |row| run_record(db, row),
            )
        })
    }

    fn append_events(&mut self, run: Option<RunId>, events: &[Event]) -> Result<()> {
        let db = self.db().to_string();
        self.write("append_events", |c| {
            require_run(c, &db, "append_events", run)?;
            for e in events {
                c.insert_event(&EventRow {
                    run: run.map(|r| r.0),
                    machine: e.machine.as_str(),
                    t_ns: e.t_ns,
                    kind: e.kind.as_str(),
                    message: &e.message,
                    line: e.line.map(i64::from),
                })?;
            }
            Ok(())
        })
    }

    fn events(
        &self,
        machine: &MachineId,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<Vec<EventRecord>> {
        let db = self.db();
        self.read("events", |c| {
            collect(
                |each| c.events(machine.as_str(), t0_ns, t1_ns, each),
                |row| event_record(db, machine, row),
            )
        })
    }

    fn append_segments(
        &mut self,
        run: Option<RunId>,
        origin: Origin,
        series: &[SignalSeries],
    ) -> Result<Vec<SegmentMeta>> {
        const OP: &str = "append_segments";
        let db = self.db().to_string();
        let sealed = seal_batch(series).map_err(|source| StoreError::InvalidInput {
            db: db.clone(),
            op: OP,
            source,
        })?;
        let records: Vec<Record> = sealed.iter().map(|s| s.ledger_record(origin)).collect();
        let leaves = ledger_log::prepare_leaves(&db, OP, &records)?;
        let (first_leaf, metas) = self.write(OP, |c| {
            require_run(c, &db, OP, run)?;
            c.lock_ledger()?;
            let first_leaf = c.ledger_size()?;
            c.insert_leaves(first_leaf, &leaves)?;
            let rows: Vec<SegmentRow> = sealed
                .iter()
                .zip(first_leaf..)
                .map(|(s, leaf_index)| {
                    let (t_first_ns, t_last_ns) = s.span();
                    SegmentRow {
                        run: run.map(|r| r.0),
                        machine: s.series.machine.as_str(),
                        signal: s.series.signal.name(),
                        t_first_ns,
                        t_last_ns,
                        count: s.series.len() as i64,
                        bytes: s.blob.len() as i64,
                        sha256: &s.sha256,
                        blob: &s.blob,
                        leaf_index: leaf_index as i64,
                        overview: &s.overview,
                    }
                })
                .collect();
            let ids = c.insert_segments(&rows)?;
            let metas = sealed
                .iter()
                .zip(ids)
                .zip(first_leaf..)
                .map(|((s, id), leaf_index)| {
                    let (t_first_ns, t_last_ns) = s.span();
                    SegmentMeta {
                        id: SegmentId(id),
                        run,
                        machine: s.series.machine.clone(),
                        signal: s.series.signal,
                        t_first_ns,
                        t_last_ns,
                        count: s.series.len() as u64,
                        bytes: s.blob.len() as u64,
                        sha256: s.sha256,
                        ledger_index: Some(leaf_index),
                    }
                })
                .collect();
            Ok((first_leaf, metas))
        })?;
        ledger_log::tree_appended(&mut self.tree().borrow_mut(), first_leaf, &leaves);
        Ok(metas)
    }

    fn signals(&self, machine: Option<&MachineId>) -> Result<Vec<SignalSummary>> {
        let db = self.db();
        self.read("signals", |c| {
            collect(
                |each| c.signals(machine.map(MachineId::as_str), each),
                |row| signal_summary(db, row),
            )
        })
    }

    fn segments(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<Vec<SegmentMeta>> {
        let db = self.db();
        self.read("segments", |c| {
            let which = overlapping(machine, signal, t0_ns, t1_ns);
            collect(
                |each| c.segments(which, false, each),
                |row| segment_meta(db, row),
            )
        })
    }

    fn read_samples(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<SignalSeries> {
        let db = self.db();
        let rows = self.read("read_samples", |c| {
            let which = overlapping(machine, signal, t0_ns, t1_ns);
            collect(
                |each| c.segments(which, true, each),
                |row| Ok((segment_meta(db, row)?, row.bytes(BLOB_COLUMN)?)),
            )
        })?;
        samples_in_range(db, machine, signal, t0_ns, t1_ns, &rows)
    }

    fn read_downsampled(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
        max_points: usize,
    ) -> Result<Downsampled> {
        crate::downsample::read_downsampled(self, machine, signal, t0_ns, t1_ns, max_points)
    }

    fn segment_blob(&self, id: SegmentId) -> Result<Vec<u8>> {
        Ok(segment_row(self, "segment_blob", id)?.1)
    }

    fn verify_segment(&self, id: SegmentId) -> Result<SegmentMeta> {
        let (meta, blob) = segment_row(self, "verify_segment", id)?;
        verify_blob(self.db(), meta, &blob)
    }

    fn segment_by_digest(&self, sha256: &[u8; 32]) -> Result<Option<SegmentMeta>> {
        let db = self.db();
        self.read("segment_by_digest", |c| {
            Ok(collect(
                |each| c.segments(SegmentsWhere::FirstWithDigest(sha256), false, each),
                |row| segment_meta(db, row),
            )?
            .pop())
        })
    }

    fn append_records(&mut self, records: &[Record]) -> Result<Vec<Appended>> {
        const OP: &str = "append_records";
        let db = self.db().to_string();
        let leaves = ledger_log::prepare_leaves(&db, OP, records)?;
        let first = self.write(OP, |c| {
            c.lock_ledger()?;
            let first = c.ledger_size()?;
            ledger_log::check_citations(&db, records, &leaves, first, |index| {
                let hash = c
                    .leaf_hash(index)?
                    .ok_or_else(|| ledger_log::corrupt_leaf(&db, index, "missing"))?;
                Ok(ledger_log::stored_hash(&db, index, hash)?)
            })?;
            c.insert_leaves(first, &leaves)?;
            Ok(first)
        })?;
        ledger_log::tree_appended(&mut self.tree().borrow_mut(), first, &leaves);
        Ok(ledger_log::appended(&leaves, first))
    }

    fn ledger_size(&self) -> Result<u64> {
        self.read("ledger_size", |c| c.ledger_size())
    }

    fn ledger_root(&self, size: u64) -> Result<Hash> {
        with_tree(self, "ledger_root", |t| t.root_at(size))
    }

    fn ledger_record(&self, index: u64) -> Result<LedgerEntry> {
        let mut entry = None;
        each_entry(self, "ledger_record", index, index + 1, &mut |e| {
            entry = Some(e);
            Ok(())
        })?;
        Ok(entry.expect("each_entry yields every leaf of a range it accepted"))
    }

    fn for_each_ledger_entry(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LedgerEntry) -> Result<()>,
    ) -> Result<()> {
        each_entry(self, "for_each_ledger_entry", from, to, f)
    }

    fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        with_tree(self, "inclusion_proof", |t| t.inclusion_proof(index, size))
    }

    fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>> {
        with_tree(self, "consistency_proof", |t| {
            t.consistency_proof(size1, size2)
        })
    }

    fn put_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        let db = self.db().to_string();
        self.write("put_checkpoint", |c| {
            // One writer per size at a time, so the check below still holds at insert.
            c.lock_checkpoints()?;
            let stored = c.checkpoint_note(size)?;
            let ledger_size = c.ledger_size()?;
            if ledger_log::checkpoint_to_insert(&db, size, ledger_size, stored.as_deref(), note)? {
                c.insert_checkpoint(size, note, ledger_log::now_ns())?;
            }
            Ok(())
        })
    }

    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        stored_checkpoints(self, "checkpoints", false)
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        Ok(stored_checkpoints(self, "latest_checkpoint", true)?.pop())
    }

    fn add_user(&mut self, user: &UserRecord, token_sha256: &[u8; 32]) -> Result<()> {
        let db = self.db().to_string();
        self.write("add_user", |c| {
            let named = collect(
                |each| c.users(UsersWhere::Name(&user.name), each),
                |row| user_record(&db, row),
            )?;
            if named.iter().any(|u| u.revoked_ns.is_none()) {
                return Err(OpError::Store(StoreError::UserExists {
                    db,
                    name: user.name.clone(),
                }));
            }
            let mut token_taken = false;
            c.users(UsersWhere::Token(token_sha256), &mut |_| {
                token_taken = true;
                Ok(())
            })?;
            if token_taken {
                return Err(OpError::Store(StoreError::TokenInUse { db }));
            }
            c.insert_user(&UserRow {
                name: &user.name,
                role: user.role.as_str(),
                token_sha256,
                created_ns: user.created_ns,
                expires_ns: user.expires_ns,
            })
        })
    }

    fn users(&self) -> Result<Vec<UserRecord>> {
        let db = self.db();
        self.read("users", |c| {
            collect(
                |each| c.users(UsersWhere::All, each),
                |row| user_record(db, row),
            )
        })
    }

    fn user_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<UserRecord>> {
        let db = self.db();
        self.read("user_by_token", |c| {
            Ok(collect(
                |each| c.users(UsersWhere::Token(token_sha256), each),
                |row| user_record(db, row),
            )?
            .pop())
        })
    }

    fn revoke_user(&mut self, name: &str, t_ns: TimeNs) -> Result<()> {
        let db = self.db().to_string();
        self.write("revoke_user", |c| {
            let named = collect(
                |each| c.users(UsersWhere::Name(name), each),
                |row| user_record(&db, row),
            )?;
            if !named.iter().any(|u| u.revoked_ns.is_none()) {
                return Err(OpError::Store(StoreError::UserNotFound {
                    db,
                    name: name.to_string(),
                }));
            }
            c.revoke_user(name, t_ns)
        })
    }
}
