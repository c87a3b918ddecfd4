/// One page of a category, newest first. `nextPage` is absent on the last page.
public struct RecordPage<Item: MedicalRecord>: Sendable, Codable, Equatable {
    public var category: RecordCategory
    public var page: Int
    public var pageSize: Int
    public var total: Int
    public var nextPage: Int?
    public var items: [Item]
    public init(category: RecordCategory, page: Int, pageSize: Int, total: Int, nextPage: Int?, items: [Item]) {
        self.category = category
        self.page = page
        self.pageSize = pageSize
        self.total = total
        self.nextPage = nextPage
        self.items = items
    }

    public static var defaultPageSize: Int { 20 }
    public static var maximumPageSize: Int { 100 }
}
