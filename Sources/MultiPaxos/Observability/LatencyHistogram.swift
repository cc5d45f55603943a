/// A fixed-size log-linear histogram of durations in microseconds: values below 16 µs get a bucket each, and
/// every power of two above is split into 8 buckets, so a bucket is at most 12.5% wide. Recording is an index
/// computation and an increment (no allocation after `init`); percentiles walk the buckets.
struct LatencyHistogram: Sendable {
    /// Buckets for values up to 2^41 µs (about 25 days); longer ones land in the last bucket.
    static let bucketCount = 16 + (41 - 4) * 8
    private(set) var buckets: [UInt64]
    private(set) var count = 0
    private(set) var sumMicroseconds: Microseconds = 0
    private(set) var maxMicroseconds: Microseconds = 0

    init() { buckets = Array(repeating: 0, count: Self.bucketCount) }

    /// The bucket of `value` (negative values count as 0).
    static func bucket(of value: Microseconds) -> Int {
        guard value >= 16 else { return Int(max(value, 0)) }
        let exponent = Int64.bitWidth - 1 - value.leadingZeroBitCount  // ≥ 4
        let sub = Int((value >> Int64(exponent - 3)) & 7)
        return min(16 + (exponent - 4) * 8 + sub, bucketCount - 1)
    }

    /// The largest value that falls in `bucket`.
    static func upperBound(of bucket: Int) -> Microseconds {
        guard bucket >= 16 else { return Microseconds(bucket) }
        let exponent = (bucket - 16) / 8 + 4
        let sub = Int64((bucket - 16) % 8)
        return ((8 + sub + 1) << Int64(exponent - 3)) - 1
    }

    /// Counts one duration.
    mutating func record(_ value: Microseconds) {
        buckets[Self.bucket(of: value)] &+= 1
        count += 1
        sumMicroseconds &+= max(value, 0)
        maxMicroseconds = max(maxMicroseconds, value)
    }

    /// The smallest bucket bound at or above the `q` quantile (0...1) of the values, capped at the largest value;
    /// 0 when nothing was recorded.
    func percentile(_ q: Double) -> Microseconds {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return min(Self.upperBound(of: i), maxMicroseconds) }
        }
        return maxMicroseconds
    }

    /// p50, p90, p99, the maximum and the sum.
    var summary: LatencySummary {
        LatencySummary(count: count, p50Microseconds: percentile(0.5), p90Microseconds: percentile(0.9),
                       p99Microseconds: percentile(0.99), maxMicroseconds: maxMicroseconds, sumMicroseconds: sumMicroseconds)
    }
}
