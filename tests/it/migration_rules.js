#!/usr/bin/env node
// The rule for migrations (docs/operations.md, "Upgrades without downtime"), enforced: a migration is
// expand-only — binaries one schema version behind keep running against it — unless it is a contract migration
// that says so in a header line
//     -- contract: <what> unused since schema <N>
// with N at least two versions before the file's own (binaries built while the schema was N may still use the
// object; those that run against version V are built for V-1 or V, so N <= V-2).
//
// Contract statements (need the header): DROP TABLE / VIEW / MATERIALIZED VIEW / FUNCTION / PROCEDURE / TYPE /
// SEQUENCE / SCHEMA / DOMAIN / EXTENSION / TRIGGER (a trigger dropped and created again in the same file is a
// redefinition: allowed), ALTER TABLE … DROP COLUMN, RENAME (of a table, column, function, type …), ALTER
// COLUMN … TYPE, SET NOT NULL, DROP DEFAULT, ADD COLUMN … NOT NULL without a DEFAULT, ADD or DROP CONSTRAINT
// on an existing table (dropped and added again under the same name in the same file is a redefinition:
// allowed; it must only widen, which a review checks), ALTER TYPE … DROP / ALTER / RENAME ATTRIBUTE or VALUE,
// TRUNCATE and DELETE outside function bodies.
// Expand (allowed): CREATE TABLE / INDEX / FUNCTION / OR REPLACE FUNCTION / VIEW / TYPE / TRIGGER, ADD COLUMN
// (nullable or with a DEFAULT), SET DEFAULT, DROP NOT NULL, SET (storage parameters), DROP INDEX (an old binary
// names no index), UPDATE (a backfill), INSERT, ALTER TYPE … ADD VALUE / ADD ATTRIBUTE, COMMENT, GRANT.
// Never allowed: CREATE INDEX CONCURRENTLY (scripts/migrate runs each file in a transaction), BEGIN / COMMIT.
//
// Usage: node tests/it/migration_rules.js [--grandfathered N] [FILE|DIR]...
//   (default: the repository's migrations/; files numbered <= N are not checked, default 27)
// Prints one line per violation (FILE:LINE: why) and a summary; exit 0 when clean, 1 on a violation, 2 on usage.
'use strict';
const fs = require('fs');
const path = require('path');

// Replaces comments, string literals, quoted identifiers' insides and dollar-quoted bodies by spaces (keeping
// newlines, so offsets still give line numbers); a quoted identifier becomes "_".
function blank(sql) {
    let out = '';
    let i = 0;
    const n = sql.length;
    const keep = (s) => s.replace(/[^\n]/g, ' ');
    while (i < n) {
        const c = sql[i], d = sql[i + 1];
        if (c === '-' && d === '-') {
            const j = sql.indexOf('\n', i);
            const end = j < 0 ? n : j;
            out += keep(sql.slice(i, end));
            i = end;
        } else if (c === '/' && d === '*') {
            let depth = 0, j = i;
            while (j < n) {
                if (sql[j] === '/' && sql[j + 1] === '*') { depth++; j += 2; }
                else if (sql[j] === '*' && sql[j + 1] === '/') { depth--; j += 2; if (depth === 0) break; }
                else j++;
            }
            out += keep(sql.slice(i, j));
            i = j;
        } else if (c === "'") {
            let j = i + 1;
            while (j < n) {
                if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
                else if (sql[j] === '\\' && /[eE]/.test(sql[i - 1] || '')) j += 2;
                else if (sql[j] === "'") break;
                else j++;
            }
            out += "'" + keep(sql.slice(i + 1, j)) + "'";
            i = j + 1;
        } else if (c === '"') {
            const j = sql.indexOf('"', i + 1);
            const end = j < 0 ? n : j;
            out += '_' + keep(sql.slice(i + 1, end + 1));
            i = end + 1;
        } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i)) && !/[A-Za-z0-9_]/.test(sql[i - 1] || '')) {
            const tag = sql.slice(i).match(/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/)[0];
            const j = sql.indexOf(tag, i + tag.length);
            const end = j < 0 ? n : j + tag.length;
            out += '$$' + keep(sql.slice(i + 2, end));
            i = end;
        } else {
            out += c;
            i++;
        }
    }
    return out;
}

// Splits at top-level commas (outside parentheses).
function splitTop(s) {
    const parts = [];
    let depth = 0, start = 0;
    for (let i = 0; i < s.length; i++) {
        if (s[i] === '(') depth++;
        else if (s[i] === ')') depth--;
        else if (s[i] === ',' && depth === 0) { parts.push(s.slice(start, i)); start = i + 1; }
    }
    parts.push(s.slice(start));
    return parts.map((p) => p.trim()).filter(Boolean);
}

const IDENT = '([A-Za-z0-9_."]+)';

// The findings of one statement (normalised: one space between words, upper case): [{kind, what, name?}].
function classify(st, newTables) {
    const found = [];
    const c = (what, name) => found.push({ kind: 'contract', what, name });
    const bad = (what) => found.push({ kind: 'never', what });
    const redef = (what, name) => found.push({ kind: 'redef', what, name });
    let m;
    if (/^(BEGIN|COMMIT|START TRANSACTION|ROLLBACK)\b/.test(st)) bad('transaction control (scripts/migrate wraps each file in one)');
    if (/^CREATE (UNIQUE )?INDEX CONCURRENTLY\b/.test(st) || /^(DROP|REINDEX) INDEX CONCURRENTLY\b/.test(st))
        bad('CONCURRENTLY (scripts/migrate runs each file in a transaction)');
    if ((m = st.match(/^DROP (TABLE|VIEW|MATERIALIZED VIEW|FUNCTION|PROCEDURE|TYPE|SEQUENCE|SCHEMA|DOMAIN|EXTENSION|RULE|POLICY) /))) {
        c(`DROP ${m[1]}`);
    }
    if ((m = st.match(new RegExp(`^DROP TRIGGER (IF EXISTS )?${IDENT} ON ${IDENT}`)))) redef('DROP TRIGGER', `TRIGGER ${m[2]} ON ${m[3]}`);
    if ((m = st.match(new RegExp(`^CREATE (OR REPLACE )?(CONSTRAINT )?TRIGGER ${IDENT} .*? ON ${IDENT}`)))) {
        found.push({ kind: 'create', name: `TRIGGER ${m[3]} ON ${m[4]}` });
    }
    if (/^TRUNCATE\b/.test(st)) c('TRUNCATE');
    if (/^DELETE FROM\b/.test(st)) c('DELETE');
    if ((m = st.match(/^ALTER (FUNCTION|PROCEDURE|TYPE|VIEW|MATERIALIZED VIEW|SEQUENCE|SCHEMA|DOMAIN) .* RENAME\b/))) c(`RENAME of a ${m[1]}`);
    if ((m = st.match(/^ALTER TYPE \S+ (DROP|ALTER) (ATTRIBUTE|VALUE)\b/))) c(`ALTER TYPE … ${m[1]} ${m[2]}`);
    if (/^ALTER FUNCTION .* SET SCHEMA\b/.test(st) || /^ALTER TABLE .* SET SCHEMA\b/.test(st)) c('SET SCHEMA');
    if ((m = st.match(new RegExp(`^ALTER TABLE (IF EXISTS )?(ONLY )?${IDENT} (.*)$`)))) {
        const table = m[3].toLowerCase();
        const rest = m[4];
        const fresh = newTables.has(m[3]);  // created in this file: no old binary writes it yet
        if (/^RENAME\b/.test(rest)) { c(`RENAME (ALTER TABLE ${table})`); return found; }
        for (const a of splitTop(rest)) {
            let k;
            if ((k = a.match(new RegExp(`^DROP CONSTRAINT (IF EXISTS )?${IDENT}`)))) redef('DROP CONSTRAINT', `CONSTRAINT ${k[2]} ON ${table}`);
            else if (fresh && /^ADD (CONSTRAINT|CHECK|UNIQUE|PRIMARY KEY|FOREIGN KEY|EXCLUDE)\b/.test(a)) continue;
            else if ((k = a.match(new RegExp(`^ADD CONSTRAINT ${IDENT}`)))) found.push({ kind: 'addcon', what: `ADD CONSTRAINT ${k[1].toLowerCase()} on an existing table (${table})`, name: `CONSTRAINT ${k[1]} ON ${table}` });
            else if (/^ADD (CHECK|UNIQUE|PRIMARY KEY|FOREIGN KEY|EXCLUDE)\b/.test(a)) c(`ADD ${a.split(' ')[1]} on an existing table (${table})`);
            else if (/^DROP\b/.test(a)) c(`DROP COLUMN (${table})`);
            else if (/^ADD (COLUMN )?/.test(a)) {
                if (/\bNOT NULL\b/.test(a) && !/\bDEFAULT\b/.test(a) && !/\bGENERATED\b/.test(a))
                    c(`ADD COLUMN … NOT NULL without a DEFAULT (${table}; inserts of old binaries would fail)`);
                if (/\bPRIMARY KEY\b|\bUNIQUE\b/.test(a.replace(/\bREFERENCES\b.*$/, ''))) {
                    // a new unique column is fine for old binaries (they leave it NULL); a new primary key is not
                    if (/\bPRIMARY KEY\b/.test(a)) c(`ADD COLUMN … PRIMARY KEY (${table})`);
                }
            } else if ((k = a.match(/^ALTER (COLUMN )?(\S+) (.*)$/))) {
                const op = k[3];
                k[2] = k[2].toLowerCase();
                if (/^(SET DATA )?TYPE\b/.test(op)) c(`ALTER COLUMN ${k[2]} TYPE (${table})`);
                else if (/^SET NOT NULL\b/.test(op)) c(`ALTER COLUMN ${k[2]} SET NOT NULL (${table})`);
                else if (/^DROP DEFAULT\b/.test(op)) c(`ALTER COLUMN ${k[2]} DROP DEFAULT (${table})`);
                else if (/^DROP EXPRESSION\b/.test(op)) c(`ALTER COLUMN ${k[2]} DROP EXPRESSION (${table})`);
            } else if (/^RENAME\b/.test(a)) c(`RENAME (${table})`);
        }
    }
    return found;
}

// Checks one file; returns a list of "LINE: why" strings (empty: clean).
function checkFile(file, version) {
    const text = fs.readFileSync(file, 'utf8');
    const problems = [];
    const headers = [];
    text.split('\n').forEach((line, i) => {
        const h = line.match(/^--\s*contract:\s*(.*)$/i);
        if (!h) return;
        const hm = h[1].match(/^(\S.*?)\s+unused since schema\s+(\d+)\s*\.?\s*$/i);
        if (!hm) problems.push(`${i + 1}: malformed header (expected "-- contract: <what> unused since schema <N>")`);
        else if (Number(hm[2]) > version - 2)
            problems.push(`${i + 1}: "unused since schema ${hm[2]}" is too recent for migration ${version}: ` +
                `binaries built for schema ${version - 1} still run against it; the object must be unused since ` +
                `schema ${version - 2} or earlier (land this contract a release later)`);
        else headers.push(i + 1);
    });
    const blanked = blank(text);
    const stmts = [];
    let start = 0;
    for (let i = 0; i <= blanked.length; i++) {
        if (i === blanked.length || blanked[i] === ';') {
            const raw = blanked.slice(start, i);
            const lead = raw.length - raw.trimStart().length;
            const st = raw.trim().replace(/\s+/g, ' ').toUpperCase();
            if (st) stmts.push({ st, line: text.slice(0, start + lead).split('\n').length });
            start = i + 1;
        }
    }
    const newTables = new Set();
    for (const s of stmts) {
        const t = s.st.match(new RegExp(`^CREATE (UNLOGGED |TEMP |TEMPORARY )?TABLE (IF NOT EXISTS )?${IDENT}`));
        if (t) newTables.add(t[3]);
    }
    const all = stmts.map((s) => ({ ...s, found: classify(s.st, newTables) }));
    const names = (kind) => new Set(all.flatMap((s) => s.found.filter((f) => f.kind === kind).map((f) => f.name)));
    const created = names('create');
    const dropped = new Set(all.flatMap((s) => s.found.filter((f) => f.kind === 'redef' && f.what === 'DROP CONSTRAINT').map((f) => f.name)));
    const added = names('addcon');
    const contract = [];
    for (const s of all) {
        for (const f of s.found) {
            if (f.kind === 'never') problems.push(`${s.line}: ${f.what}`);
            else if (f.kind === 'contract') contract.push(`${s.line}: ${f.what}`);
            else if (f.kind === 'redef' && f.what === 'DROP TRIGGER' && !created.has(f.name)) contract.push(`${s.line}: DROP TRIGGER (not created again in this file)`);
            else if (f.kind === 'redef' && f.what === 'DROP CONSTRAINT' && !added.has(f.name)) contract.push(`${s.line}: DROP CONSTRAINT (not added again in this file)`);
            else if (f.kind === 'addcon' && !dropped.has(f.name)) contract.push(`${s.line}: ${f.what}`);
        }
    }
    if (contract.length && !headers.length)
        for (const c of contract)
            problems.push(`${c} is a contract change: only with a header line "-- contract: <what> unused since schema <N>", N <= ${version - 2}`);
    return problems;
}

function main(argv) {
    let grandfathered = 27;
    const args = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--grandfathered') {
            grandfathered = Number(argv[++i]);
            if (!Number.isInteger(grandfathered)) { console.error('migration_rules: --grandfathered N'); return 2; }
        } else if (argv[i] === '-h' || argv[i] === '--help') {
            console.log('usage: node tests/it/migration_rules.js [--grandfathered N] [FILE|DIR]...');
            return 0;
        } else args.push(argv[i]);
    }
    if (!args.length) args.push(path.join(__dirname, '..', '..', 'migrations'));
    const files = [];
    for (const a of args) {
        if (!fs.existsSync(a)) { console.error(`migration_rules: no such file: ${a}`); return 2; }
        if (fs.statSync(a).isDirectory())
            for (const f of fs.readdirSync(a).sort()) { if (f.endsWith('.sql')) files.push(path.join(a, f)); }
        else files.push(a);
    }
    let checked = 0, skipped = 0, bad = 0;
    for (const f of files) {
        const m = path.basename(f).match(/^(\d+)_[A-Za-z0-9][A-Za-z0-9_.-]*\.sql$/);
        if (!m) { console.log(`${f}: bad migration file name (expected NNN_name.sql)`); bad++; continue; }
        const v = Number(m[1]);
        if (v <= grandfathered) { skipped++; continue; }
        checked++;
        const problems = checkFile(f, v);
        for (const p of problems) console.log(`${f}:${p}`);
        if (problems.length) bad++;
    }
    console.log(`migration_rules: ${checked} checked, ${skipped} grandfathered (<= ${grandfathered}), ${bad} with violations`);
    return bad ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
