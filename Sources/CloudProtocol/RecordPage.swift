/// One page of a category, newest first. `nextPage` is absent on the last page.
package struct RecordPage<Item: MedicalRecord>: Sendable, Codable, Equatable {
    package var category: RecordCategory
    package var page: Int
    package var pageSize: Int
    package var total: Int
    package var nextPage: Int?
    package var items: [Item]
    package init(category: RecordCategory, page: Int, pageSize: Int, total: Int, nextPage: Int?, items: [Item]) {
        self.category = category
        self.page = page
        self.pageSize = pageSize
        self.total = total
        self.nextPage = nextPage
        self.items = items
    }

    package static var defaultPageSize: Int { 20 }
    package static var maximumPageSize: Int { 100 }
}
