#include "pinpipe/objstore/xml.h"

#include <gtest/gtest.h>

namespace pinpipe::objstore::xml {
namespace {

// A ListObjectsV2 response as S3 sends it (the shape of the example in the
// S3 API reference, with a continuation token, an entity in an ETag, a key
// that needs escaping and an empty Prefix).
constexpr std::string_view kListObjectsV2 = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <Name>bucket</Name>
    <Prefix/>
    <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
    <KeyCount>2</KeyCount>
    <MaxKeys>1000</MaxKeys>
    <IsTruncated>true</IsTruncated>
    <Contents>
        <Key>my-image.jpg</Key>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
    <Contents>
        <Key>topics/p.pin/a&amp;b &lt;1&gt;.json</Key>
        <LastModified>2024-02-29T23:59:59.999Z</LastModified>
        <ETag>&#34;0cc175b9c0f1b6a831c399e269772661&#x22;</ETag>
        <Size>1</Size>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
</ListBucketResult>)";

// An S3 error body (the REST error response of the S3 API reference).
constexpr std::string_view kNoSuchKey = R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)";

TEST(XmlTest, ReadsAListObjectsV2Body) {
  EXPECT_EQ(Text(kListObjectsV2, "IsTruncated"), "true");
  EXPECT_EQ(Text(kListObjectsV2, "NextContinuationToken"),
            "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_EQ(Text(kListObjectsV2, "Prefix"), "");
  EXPECT_EQ(Text(kListObjectsV2, "Delimiter"), std::nullopt);
  auto contents = Elements(kListObjectsV2, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(Text(contents[0], "Key"), "my-image.jpg");
  EXPECT_EQ(Text(contents[0], "ETag"), "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(Text(contents[0], "Size"), "434234");
  EXPECT_EQ(Text(contents[1], "Key"), "topics/p.pin/a&b <1>.json");
  EXPECT_EQ(Text(contents[1], "ETag"), "\"0cc175b9c0f1b6a831c399e269772661\"");
  EXPECT_EQ(Text(contents[1], "LastModified"), "2024-02-29T23:59:59.999Z");
}

TEST(XmlTest, ReadsAnErrorBodyAndPrefixedNames) {
  EXPECT_EQ(Text(kNoSuchKey, "Code"), "NoSuchKey");
  EXPECT_EQ(Text(kNoSuchKey, "Message"), "The resource you requested does not exist");
  EXPECT_EQ(Text("<s3:Error><s3:Code>SlowDown</s3:Code></s3:Error>", "Code"), "SlowDown");
}

TEST(XmlTest, EscapeRoundTrips) {
  const std::string key = "a&b <c> \"d\" 'e'";
  EXPECT_EQ(Unescape(Escape(key)), key);
  EXPECT_EQ(Escape("a&b<c>"), "a&amp;b&lt;c&gt;");
}

}  // namespace
}  // namespace pinpipe::objstore::xml
