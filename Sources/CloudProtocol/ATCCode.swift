/// A WHO ATC code: a letter, two digits, two letters, two digits (or a shorter level of the same).
package enum ATCCode {
    package static func isValid(_ code: String) -> Bool {
        let pattern: [Character] = ["L", "D", "D", "L", "L", "D", "D"]
        let characters = Array(code)
        guard [1, 3, 4, 5, 7].contains(characters.count) else { return false }
        return zip(characters, pattern).allSatisfy { character, kind in
            kind == "L" ? ("A"..."Z").contains(character) : ("0"..."9").contains(character)
        }
    }
}
