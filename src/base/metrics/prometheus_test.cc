#include "base/metrics/prometheus.h"

#include <limits>

#include "base/metrics/metric.h"
#include "gtest/gtest.h"

namespace shale::metrics {
namespace {

TEST(PrometheusTest, FormatValue) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {42, "42"},
      {-3, "-3"},
      {0.25, "0.25"},
      {0.1, "0.1"},
      {2.056, "2.056"},
      {1e-7, "1e-07"},
      {1e20, "1e+20"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatValue(c.value), c.text) << c.text;
}

TEST(PrometheusTest, Names) {
  EXPECT_TRUE(IsValidMetricName("shale_queries_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_TRUE(IsValidMetricName("_x9"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("9x"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName("a b"));
  EXPECT_TRUE(IsValidLabelName("type"));
  EXPECT_TRUE(IsValidLabelName("_t1"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName(""));
}

TEST(PrometheusTest, Escaping) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("a\"b"), "a\\\"b");
  EXPECT_EQ(EscapeLabelValue("a\nb"), "a\\nb");
  EXPECT_EQ(EscapeHelp("a\"b\\c\nd"), "a\"b\\\\c\\nd");
}

TEST(PrometheusTest, HistogramBucketsAndNaN) {
  Histogram h({1, 2});
  h.Observe(1);
  h.Observe(1.5);
  h.Observe(100);
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  HistogramSnapshot snap = h.Snapshot();
  EXPECT_EQ(snap.cumulative, (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(snap.count, 4u);
}

TEST(PrometheusTest, BucketHelpers) {
  EXPECT_TRUE(ValidBuckets(LatencyBuckets()));
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(LinearBuckets(0, 5, 3), (std::vector<double>{0, 5, 10}));
  EXPECT_FALSE(ValidBuckets({}));
  EXPECT_FALSE(ValidBuckets({1, 1}));
  EXPECT_FALSE(ValidBuckets({1, std::numeric_limits<double>::infinity()}));
}

TEST(PrometheusTest, EmptyFamilyHasOnlyHeader) {
  FamilySnapshot family;
  family.name = "unused_total";
  family.help = "Never touched.";
  family.type = MetricType::kCounter;
  family.label_names = {"x"};
  EXPECT_EQ(RenderPrometheusText({family}),
            "# HELP unused_total Never touched.\n# TYPE unused_total counter\n");
}

}  // namespace
}  // namespace shale::metrics
