//! Moving an installation from SQLite to PostgreSQL (`grantline db copy`): every table, written
//! generically over the schema (tables and columns are read from the source, so tables added by
//! later migrations are copied too), in one PostgreSQL transaction that commits only once row
//! counts match and every sealed value opens with the key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::types::ValueRef;
use tokio_postgres::types::{ToSql, Type};

use super::{PostgresStore, SqliteStore, Store};
use crate::engine::vault::Vault;
use crate::{Error, Result};

/// What a copy moved, table by table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Rows per table, in the order they were copied.
    pub tables: Vec<(String, u64)>,
    /// How many sealed values were opened with the key on the destination.
    pub sealed_values_checked: u64,
}

/// One source table: its columns and rows, read whole (an installation's tables fit in memory
/// many times over; the copy is a one-off).
struct Table {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<rusqlite::types::Value>>,
    /// Tables this one references (copied first).
    references: BTreeSet<String>,
}

/// Copies the SQLite database at `from` into the empty PostgreSQL database at `to` (both are
/// migrated to the current schema first), checking every sealed value with `vault`. Nothing is
/// committed unless everything checks out; a destination that already holds rows is refused.
pub async fn sqlite_to_postgres(from: &Path, to: &str, vault: &Vault) -> Result<CopyReport> {
    if !from.exists() {
        return Err(Error::validation("from", format!("{} does not exist", from.display())));
    }
    SqliteStore::open(from)?.migrate().await?;
    let destination = PostgresStore::connect(to).await?;
    destination.migrate().await?;
    let path = from.to_path_buf();
    let tables = tokio::task::spawn_blocking(move || read_tables(&path))
        .await
        .map_err(|e| Error::Internal(format!("copy task: {e}")))??;
    let tables = in_reference_order(tables)?;

    let mut client = destination.client().await?;
    let tx = client.transaction().await.map_err(pg)?;
    let mut report = CopyReport { tables: vec![], sealed_values_checked: 0 };
    for table in &tables {
        let types = column_types(&tx, &table.name).await?;
        let existing: i64 = tx.query_one(&format!("SELECT COUNT(*) FROM {}", quoted(&table.name)), &[]).await.map_err(pg)?.get(0);
        if existing > 0 {
            return Err(Error::Conflict(format!(
                "the destination's {} table already holds {existing} rows: copy into an empty database",
                table.name
            )));
        }
        let mut target_types = Vec::with_capacity(table.columns.len());
        for c in &table.columns {
            let t = types.get(c).ok_or_else(|| {
                Error::Internal(format!("the destination has no column {}.{c}: is it a newer broker's schema?", table.name))
            })?;
            target_types.push(t.clone());
        }
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quoted(&table.name),
            table.columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "),
            (1..=table.columns.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        );
        let statement = tx.prepare_typed(&insert, &target_types).await.map_err(pg)?;
        for row in &table.rows {
            let values = row
                .iter()
                .zip(&target_types)
                .zip(&table.columns)
                .map(|((v, t), c)| to_postgres(v, t).map_err(|why| Error::Internal(format!("{}.{c}: {why}", table.name))))
                .collect::<Result<Vec<_>>>()?;
            let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
            tx.execute(&statement, &params).await.map_err(pg)?;
        }
        let copied: i64 = tx.query_one(&format!("SELECT COUNT(*) FROM {}", quoted(&table.name)), &[]).await.map_err(pg)?.get(0);
        if copied as usize != table.rows.len() {
            return Err(Error::Internal(format!("{}: {} rows read, {copied} written", table.name, table.rows.len())));
        }
        report.sealed_values_checked += check_sealed(&tx, table, vault).await?;
        report.tables.push((table.name.clone(), copied as u64));
    }
    tx.commit().await.map_err(pg)?;
    Ok(report)
}

/// Every table of the source (SQLite's own excepted), with its columns, rows and references.
fn read_tables(path: &Path) -> Result<Vec<Table>> {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(lite)?;
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(lite)?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let columns: Vec<String> = c
            .prepare(&format!("PRAGMA table_info({})", quoted(&name)))
            .and_then(|mut st| st.query_map([], |r| r.get(1))?.collect())
            .map_err(lite)?;
        let references: BTreeSet<String> = c
            .prepare(&format!("PRAGMA foreign_key_list({})", quoted(&name)))
            .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(2))?.collect())
            .map_err(lite)?;
        let select = format!("SELECT {} FROM {}", columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "), quoted(&name));
        let rows = c
            .prepare(&select)
            .and_then(|mut st| {
                st.query_map([], |r| (0..columns.len()).map(|i| r.get_ref(i).map(rusqlite::types::Value::from)).collect())?
                    .collect::<rusqlite::Result<Vec<Vec<_>>>>()
            })
            .map_err(lite)?;
        tables.push(Table { name, columns, rows, references });
    }
    Ok(tables)
}

/// The tables ordered so each comes after the tables it references.
fn in_reference_order(mut pending: Vec<Table>) -> Result<Vec<Table>> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|t| t.references.iter().all(|r| r == &t.name || done.contains(r)));
        let Some(i) = ready else {
            let names: Vec<&str> = pending.iter().map(|t| t.name.as_str()).collect();
            return Err(Error::Internal(format!("the tables {names:?} reference each other in a cycle")));
        };
        let table = pending.remove(i);
        done.insert(table.name.clone());
        ordered.push(table);
    }
    Ok(ordered)
}

/// The destination table's column types.
async fn column_types(tx: &tokio_postgres::Transaction<'_>, table: &str) -> Result<BTreeMap<String, Type>> {
    let rows = tx
        .query(
            "SELECT a.attname::text, a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $1 AND n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped",
            &[&table],
        )
        .await
        .map_err(pg)?;
    if rows.is_empty() {
        return Err(Error::Internal(format!("the destination has no table {table}: is it a newer broker's schema?")));
    }
    Ok(rows
        .iter()
        .map(|r| {
            let oid: u32 = r.get(1);
            (r.get::<_, String>(0), Type::from_oid(oid).unwrap_or(Type::TEXT))
        })
        .collect())
}

/// A SQLite value as the destination column's type wants it.
fn to_postgres(v: &rusqlite::types::Value, t: &Type) -> std::result::Result<Box<dyn ToSql + Sync + Send>, String> {
    use rusqlite::types::Value as V;
    Ok(match (ValueRef::from(v), t) {
        (ValueRef::Null, t) => match *t {
            Type::BOOL => Box::new(None::<bool>),
            Type::INT2 => Box::new(None::<i16>),
            Type::INT4 => Box::new(None::<i32>),
            Type::INT8 => Box::new(None::<i64>),
            Type::FLOAT8 => Box::new(None::<f64>),
            Type::BYTEA => Box::new(None::<Vec<u8>>),
            _ => Box::new(None::<String>),
        },
        (ValueRef::Integer(i), &Type::BOOL) => Box::new(i != 0),
        (ValueRef::Integer(i), &Type::INT2) => Box::new(i16::try_from(i).map_err(|e| e.to_string())?),
        (ValueRef::Integer(i), &Type::INT4) => Box::new(i32::try_from(i).map_err(|e| e.to_string())?),
        (ValueRef::Integer(i), &Type::INT8) => Box::new(i),
        (ValueRef::Integer(i), &Type::FLOAT8) => Box::new(i as f64),
        (ValueRef::Real(f), &Type::FLOAT8) => Box::new(f),
        (ValueRef::Text(_), &Type::TEXT | &Type::VARCHAR) => match v {
            V::Text(s) => Box::new(s.clone()),
            _ => unreachable!(),
        },
        (ValueRef::Blob(b), &Type::BYTEA) => Box::new(b.to_vec()),
        (other, t) => return Err(format!("a SQLite {:?} value cannot go into a {t} column", other.data_type())),
    })
}

/// Opens every sealed value (`*_sealed` columns) the destination now holds with the key. A
/// sealed value's context is its row's `account_id`, else its `id` (as the vault sealed it).
async fn check_sealed(tx: &tokio_postgres::Transaction<'_>, table: &Table, vault: &Vault) -> Result<u64> {
    let sealed: Vec<&String> = table.columns.iter().filter(|c| c.ends_with("_sealed")).collect();
    if sealed.is_empty() {
        return Ok(0);
    }
    let context = ["account_id", "id"]
        .into_iter()
        .find(|c| table.columns.iter().any(|x| x == c))
        .ok_or_else(|| Error::Internal(format!("{} holds sealed values but neither account_id nor id", table.name)))?;
    let mut checked = 0;
    for column in sealed {
        let rows = tx
            .query(
                &format!("SELECT {}, {} FROM {} WHERE {} IS NOT NULL", quoted(context), quoted(column), quoted(&table.name), quoted(column)),
                &[],
            )
            .await
            .map_err(pg)?;
        for r in rows {
            let (ctx, value): (String, Vec<u8>) = (r.get(0), r.get(1));
            vault.open(&ctx, &value).map_err(|_| {
                Error::validation("encryption_key", format!("{}.{column} of {ctx} does not open with this key: nothing was copied", table.name))
            })?;
            checked += 1;
        }
    }
    Ok(checked)
}

/// A quoted SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn lite(e: rusqlite::Error) -> Error {
    Error::Internal(format!("reading the SQLite database: {e}"))
}

fn pg(e: tokio_postgres::Error) -> Error {
    Error::Internal(format!("writing the PostgreSQL database: {}", e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string())))
}
