import CloudProtocol
import GRDB

// Medical records: stored by patient and category, read a page at a time.
extension SQLiteCloudStore {
    package func storeRecords(_ records: [StoredRecord], patientID: String) async throws {
        try await pool.write { db in
            for record in records {
                try db.execute(
                    sql: "INSERT INTO medical_record (patient_id, category, date, payload) VALUES (?, ?, ?, ?)",
                    arguments: [patientID, record.category.rawValue, record.date, record.json])
            }
        }
    }

    /// Replaces a patient's records of one category: for arranging a known history (tests,
    /// demonstrations); the served cloud only ever adds records.
    package func replaceRecords(_ records: [StoredRecord], category: RecordCategory, patientID: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM medical_record WHERE patient_id = ? AND category = ?",
                arguments: [patientID, category.rawValue])
            for record in records where record.category == category {
                try db.execute(
                    sql: "INSERT INTO medical_record (patient_id, category, date, payload) VALUES (?, ?, ?, ?)",
                    arguments: [patientID, record.category.rawValue, record.date, record.json])
            }
        }
    }

    package func records(
        patientID: String, category: RecordCategory, offset: Int, limit: Int
    ) async throws
        -> (total: Int, payloads: [String])
    {
        try await pool.read { db in
            let total =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM medical_record WHERE patient_id = ? AND category = ?",
                    arguments: [patientID, category.rawValue]) ?? 0
            let payloads = try String.fetchAll(
                db,
                sql: """
                    SELECT payload FROM medical_record WHERE patient_id = ? AND category = ?
                    ORDER BY date DESC, id DESC LIMIT ? OFFSET ?
                    """,
                arguments: [patientID, category.rawValue, limit, offset])
            return (total, payloads)
        }
    }
}
