// Taiwan ID numbers, checked in the page before a consent request goes out (the daemon checks again):
//   national ID                   a letter, 1 or 2 (sex), 8 digits           A123456789
//   new resident certificate      a letter, 8 or 9, 8 digits                 A800000014
//   old resident certificate      a letter, A, B, C or D, 8 digits           TD00251124
// The first letter stands for two digits d1 d2 (A=10 … Z=33, below; I, O, W to Z out of order); the
// second character is itself a digit, or for an old resident certificate the last digit of its letter's
// value (A→0, B→1, C→2, D→3). Weights 1 9 8 7 6 5 4 3 2 1 1 over d1, d2 and the nine characters after
// the letter; the number is valid when the sum is a multiple of 10. The three examples above are valid
// (the browser test checks them and a changed digit of each).

const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const letterValues = [10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33];
const weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1];

export function isTaiwanID(text) {
  if (typeof text !== "string" || !/^[A-Z][1289A-D][0-9]{8}$/.test(text)) return false;
  const first = letterValues[letters.indexOf(text[0])];
  const second = /[0-9]/.test(text[1]) ? Number(text[1]) : letterValues[letters.indexOf(text[1])] % 10;
  const values = [Math.floor(first / 10), first % 10, second, ...[...text.slice(2)].map(Number)];
  return values.reduce((sum, value, index) => sum + value * weights[index], 0) % 10 === 0;
}
