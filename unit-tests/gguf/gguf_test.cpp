// The GGUF container: values of every type round-trip through Writer → bytes → File, the layout
// (versions, alignment, offsets) is what the format says, and hostile input ends in one clear
// error — never a crash, a hang or an allocation the file's size does not justify.
#include "g4c/gguf/gguf.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <random>

namespace g4c::gguf {
namespace {

namespace fs = std::filesystem;

std::string errors_of(const DiagnosticEngine& diag) {
  std::string out;
  for (const Diagnostic& d : diag.diagnostics()) out += format_diagnostic(d, "g4c") + "\n";
  return out;
}

std::optional<File> parse(std::vector<uint8_t> bytes, DiagnosticEngine& diag) {
  return File::from_bytes(std::move(bytes), "m.gguf", diag);
}

File parse_ok(std::vector<uint8_t> bytes) {
  DiagnosticEngine diag;
  auto file = parse(std::move(bytes), diag);
  EXPECT_TRUE(file) << errors_of(diag);
  return std::move(*file);
}

// The one error parsing `bytes` reports, as the tool prints it.
std::string parse_error(std::vector<uint8_t> bytes) {
  DiagnosticEngine diag;
  EXPECT_FALSE(parse(std::move(bytes), diag));
  EXPECT_EQ(diag.error_count(), 1) << errors_of(diag);
  return diag.diagnostics().empty() ? "" : format_diagnostic(diag.diagnostics().front(), "g4c");
}

void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void put_u64(std::vector<uint8_t>& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }
void append_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void append_u64(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void append_string(std::vector<uint8_t>& b, std::string_view s) {
  append_u64(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

std::vector<uint8_t> filled(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 7 * i);
  return v;
}

// One value of every type, including nested arrays, arrays of strings and empty ones.
std::vector<std::pair<std::string, Value>> every_value_type() {
  std::vector<int64_t> ints = {1, -2, 3};
  std::vector<double> floats = {0.5, -1.25, 1e30};
  std::vector<std::string> strings = {"<pad>", "", "héllo"};
  return {
      {"u8", Value::make_u8(250)},
      {"i8", Value::make_i8(-100)},
      {"u16", Value::make_u16(65535)},
      {"i16", Value::make_i16(-32768)},
      {"u32", Value::make_u32(4000000000u)},
      {"i32", Value::make_i32(-2000000000)},
      {"u64", Value::make_u64(UINT64_MAX)},
      {"i64", Value::make_i64(INT64_MIN)},
      {"f32", Value::make_f32(1e-6f)},
      {"f64", Value::make_f64(-2.5e300)},
      {"bool", Value::make_bool(true)},
      {"string", Value::make_string("gemma4")},
      {"empty string", Value::make_string("")},
      {"i32 array", Value::make_int_array(ValueType::i32, ints)},
      {"u64 array", Value::make_int_array(ValueType::u64, ints)},
      {"f32 array", Value::make_float_array(ValueType::f32, floats)},
      {"f64 array", Value::make_float_array(ValueType::f64, floats)},
      {"bool array", Value::make_bool_array(std::vector<bool>{true, false, true})},
      {"string array", Value::make_string_array(strings)},
      {"empty array", Value::make_array(ValueType::u8, {})},
      {"array of arrays", Value::make_array(ValueType::array, {Value::make_int_array(ValueType::u16, ints),
                                                               Value::make_int_array(ValueType::u16, {})})},
      {"array of arrays of strings",
       Value::make_array(ValueType::array, {Value::make_string_array(strings), Value::make_string_array({})})},
  };
}

// A small valid file: metadata of every type, three tensors of sizes that need padding.
Writer small_writer() {
  Writer w;
  w.set("general.architecture", Value::make_string("gemma4"));
  for (auto& [key, value] : every_value_type()) w.set(key, value);
  w.add_tensor("a", {3}, ggml::F32, filled(12, 1));
  w.add_tensor("b", {4, 2}, ggml::F16, filled(16, 2));
  w.add_tensor("c", {32, 2}, ggml::Q8_0, filled(68, 3));
  return w;
}

TEST(GgufValue, AccessorsDecodeTheStoredBits) {
  EXPECT_EQ(Value::make_i8(-100).as_int(), -100);
  EXPECT_EQ(Value::make_i16(-2).bits, 0xfffeu);
  EXPECT_EQ(Value::make_u64(UINT64_MAX).as_int(), std::nullopt);  // does not fit int64
  EXPECT_EQ(Value::make_u32(7).as_float(), 7.0);
  EXPECT_EQ(Value::make_f32(0.25f).as_float(), 0.25);
  EXPECT_EQ(Value::make_f32(0.25f).as_int(), std::nullopt);
  EXPECT_EQ(Value::make_bool(true).as_bool(), true);
  EXPECT_EQ(Value::make_u8(1).as_bool(), std::nullopt);
  EXPECT_EQ(Value::make_string("x").as_string(), "x");
  std::vector<int64_t> ints = {8, 8, 1};
  EXPECT_EQ(Value::make_int_array(ValueType::i32, ints).as_int_array(), ints);
  EXPECT_EQ(Value::make_string("x").as_int_array(), std::nullopt);
  EXPECT_EQ(Value::make_f32(1e-6f).summary(), "1e-06");
  EXPECT_EQ(Value::make_int_array(ValueType::i32, ints).summary(), "[3 x i32]");
  EXPECT_EQ(Value::make_string(std::string(64, 'a')).summary(), "\"" + std::string(64, 'a') + "\"");
  EXPECT_EQ(Value::make_string(std::string(1 << 20, 'a')).summary(),
            "\"" + std::string(64, 'a') + "\"... (1048576 bytes)");
  EXPECT_EQ(value_type_name(static_cast<ValueType>(13)), "type 13");
}

TEST(GgufRoundTrip, EveryMetadataValueType) {
  File file = parse_ok(small_writer().to_bytes());
  EXPECT_EQ(file.version(), 3u);
  auto expected = every_value_type();
  ASSERT_EQ(file.metadata().size(), expected.size() + 1);
  EXPECT_EQ(file.metadata().front().first, "general.architecture");  // insertion order
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(file.metadata()[i + 1].first, expected[i].first);
    EXPECT_EQ(file.metadata()[i + 1].second, expected[i].second) << expected[i].first;
  }
  EXPECT_EQ(file.find("i64")->as_int(), INT64_MIN);
  EXPECT_EQ(file.find("f32")->as_float(), static_cast<double>(1e-6f));
  EXPECT_EQ(file.find("string array")->as_string_array(), (std::vector<std::string>{"<pad>", "", "héllo"}));
  const Value* nested = file.find("array of arrays of strings");
  ASSERT_TRUE(nested && nested->is_array());
  EXPECT_EQ(nested->element_type, ValueType::array);
  EXPECT_EQ(nested->items[0].as_string_array()->at(2), "héllo");
  EXPECT_EQ(file.find("no such key"), nullptr);
}

TEST(GgufRoundTrip, BytesAreStableAcrossASecondRoundTrip) {
  std::vector<uint8_t> bytes = small_writer().to_bytes();
  File file = parse_ok(bytes);
  Writer again;
  for (const auto& [key, value] : file.metadata()) again.set(key, value);
  for (const TensorInfo& t : file.tensors()) again.add_tensor(t.name, t.dims, t.ggml_type, t.span());
  EXPECT_EQ(again.to_bytes(), bytes);
}

TEST(GgufRoundTrip, Version2ReadsLikeVersion3) {
  std::vector<uint8_t> bytes = small_writer().to_bytes();
  put_u32(bytes, 4, 2);
  File file = parse_ok(bytes);
  EXPECT_EQ(file.version(), 2u);
  EXPECT_EQ(file.tensors().size(), 3u);
}

TEST(GgufRoundTrip, TensorsAreAlignedAndFoundByName) {
  for (uint32_t alignment : {32u, 64u, 1u}) {
    Writer w = small_writer();
    if (alignment != 32) w.set("general.alignment", Value::make_u32(alignment));
    File file = parse_ok(w.to_bytes());
    EXPECT_EQ(file.alignment(), alignment);
    EXPECT_EQ(file.data_offset() % alignment, 0u);
    std::vector<uint64_t> expected_offsets = {0, (12 + alignment - 1) / alignment * alignment};
    expected_offsets.push_back((expected_offsets[1] + 16 + alignment - 1) / alignment * alignment);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(file.tensors()[i].offset, expected_offsets[i]) << alignment;
    const TensorInfo* c = file.find_tensor("c");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->dims, (std::vector<int64_t>{32, 2}));
    EXPECT_EQ(c->ggml_type, ggml::Q8_0);
    EXPECT_EQ(c->bytes, 68u);
    EXPECT_EQ(c->shape(), "[32, 2]");
    EXPECT_EQ(c->data, file.bytes().data() + file.data_offset() + c->offset);
    EXPECT_EQ(std::vector<uint8_t>(c->span().begin(), c->span().end()), filled(68, 3));
    EXPECT_EQ(file.find_tensor("d"), nullptr);
  }
}

TEST(GgufRoundTrip, WriteThenOpenAndReadTensors) {
  fs::path path = fs::temp_directory_path() / ("g4c-gguf-test-" + std::to_string(::getpid()) + ".gguf");
  DiagnosticEngine diag;
  ASSERT_TRUE(small_writer().write(path.string(), diag)) << errors_of(diag);
  auto file = File::open(path.string(), diag);
  ASSERT_TRUE(file) << errors_of(diag);
  File moved = std::move(*file);  // the open file moves with it
  EXPECT_EQ(moved.size(), fs::file_size(path));
  EXPECT_EQ(moved.read_tensor(*moved.find_tensor("b"), diag), filled(16, 2));
  EXPECT_EQ(moved.path(), path.string());
  fs::remove(path);
}

TEST(GgufRoundTrip, OpenReportsUnreadablePaths) {
  DiagnosticEngine diag;
  EXPECT_FALSE(File::open("/no/such/file.gguf", diag));
  EXPECT_EQ(errors_of(diag), "/no/such/file.gguf: error: GGUF: cannot read the file: no such file\n");
  DiagnosticEngine dir_diag;
  EXPECT_FALSE(File::open(fs::temp_directory_path().string(), dir_diag));
  EXPECT_NE(errors_of(dir_diag).find("it is a directory"), std::string::npos);
}

// Files are read, never mapped: a file that shrinks after it was opened is a short read, reported
// as an error naming the tensor, where a mapping would have raised SIGBUS.
TEST(GgufRoundTrip, AFileThatShrinksIsAnErrorNotASignal) {
  fs::path path = fs::temp_directory_path() / ("g4c-gguf-shrink-" + std::to_string(::getpid()) + ".gguf");
  DiagnosticEngine diag;
  ASSERT_TRUE(small_writer().write(path.string(), diag)) << errors_of(diag);
  auto file = File::open(path.string(), diag);
  ASSERT_TRUE(file) << errors_of(diag);
  const TensorInfo& c = *file->find_tensor("c");
  fs::resize_file(path, file->data_offset() + c.offset + 10);
  EXPECT_FALSE(file->read_tensor(c, diag));
  EXPECT_EQ(errors_of(diag), path.string() + ": error: GGUF: tensor \"c\": cannot read its data: the file ends at byte " +
                                 std::to_string(file->data_offset() + c.offset + 10) + ", before byte " +
                                 std::to_string(file->data_offset() + c.offset + 68) + " (it shrank while it was read)\n");
  fs::remove(path);
}

// Only the header is read into memory, growing until it parses: a header longer than the first
// read (a 3 MiB metadata string) still parses, and tensors come from the file on demand.
TEST(GgufRoundTrip, AHeaderLongerThanTheFirstReadParses) {
  fs::path path = fs::temp_directory_path() / ("g4c-gguf-long-" + std::to_string(::getpid()) + ".gguf");
  Writer w = small_writer();
  w.set("general.description", Value::make_string(std::string(3 << 20, 'd')));
  DiagnosticEngine diag;
  ASSERT_TRUE(w.write(path.string(), diag)) << errors_of(diag);
  auto file = File::open(path.string(), diag);
  ASSERT_TRUE(file) << errors_of(diag);
  EXPECT_EQ(file->find("general.description")->as_string()->size(), size_t{3} << 20);
  EXPECT_EQ(file->read_tensor(*file->find_tensor("b"), diag), filled(16, 2));
  fs::remove(path);
}

// A FIFO (or device) given as a model is refused from its type, without opening it for reading,
// which would block until a writer came.
TEST(GgufRoundTrip, AFifoIsRefusedWithoutBlocking) {
  fs::path path = fs::temp_directory_path() / ("g4c-gguf-fifo-" + std::to_string(::getpid()));
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  DiagnosticEngine diag;
  EXPECT_FALSE(File::open(path.string(), diag));
  EXPECT_EQ(errors_of(diag),
            path.string() + ": error: GGUF: cannot read the file: it is a FIFO (named pipe), not a regular file\n");
  fs::remove(path);
}

TEST(GgufWriter, CheckRejectsWhatAReaderWould) {
  auto first_error = [](const Writer& w) {
    DiagnosticEngine diag;
    EXPECT_FALSE(w.check("out.gguf", diag));
    return errors_of(diag);
  };
  Writer short_data;
  short_data.add_tensor("x", {32}, ggml::F32, std::vector<uint8_t>(100));
  EXPECT_EQ(first_error(short_data),
            "out.gguf: error: GGUF writer: tensor \"x\": 100 bytes of data (expected 128 for F32)\n");
  Writer twice;
  twice.add_tensor("x", {1}, ggml::F32, std::vector<uint8_t>(4));
  twice.add_tensor("x", {1}, ggml::F32, std::vector<uint8_t>(4));
  EXPECT_EQ(first_error(twice), "out.gguf: error: GGUF writer: tensor \"x\": the name appears twice\n");
  Writer bad_alignment;
  bad_alignment.set("general.alignment", Value::make_u32(48));
  EXPECT_EQ(first_error(bad_alignment),
            "out.gguf: error: GGUF writer: metadata key \"general.alignment\": 48 (expected a u32 power of two)\n");
  Writer mixed_array;
  mixed_array.set("a", Value::make_array(ValueType::u8, {Value::make_u16(1)}));
  EXPECT_EQ(first_error(mixed_array),
            "out.gguf: error: GGUF writer: metadata key \"a\": element 0 is u16 in an array of u8\n");
  Writer w;
  w.set("k", Value::make_u32(1));
  w.set("k", Value::make_u32(2));  // replaces in place
  EXPECT_EQ(w.find("k")->as_int(), 2);
  EXPECT_TRUE(w.erase("k"));
  EXPECT_FALSE(w.erase("k"));
}

TEST(GgmlTypes, BlockGeometryAndTheTypesG4cSupports) {
  EXPECT_EQ(ggml_type_name(ggml::Q4_K), "Q4_K");
  EXPECT_EQ(ggml_type_name(ggml::IQ2_XS), "IQ2_XS");
  EXPECT_EQ(ggml_type_name(99), "type 99");
  EXPECT_EQ(ggml_type_name(4), "type 4");  // removed Q4_2
  EXPECT_EQ(ggml_tensor_bytes(ggml::Q6_K, {3840, 262144}), uint64_t{3840} / 256 * 210 * 262144);
  EXPECT_EQ(ggml_tensor_bytes(ggml::Q4_0, {3840, 8192, 1, 1}), uint64_t{3840} / 32 * 18 * 8192);
  EXPECT_EQ(ggml_tensor_bytes(ggml::Q4_K, {100}), std::nullopt);  // not whole blocks
  EXPECT_EQ(ggml_tensor_bytes(ggml::F32, {INT64_MAX, 4}), std::nullopt);
  for (QuantType t : kAllQuantTypes) {
    EXPECT_EQ(quant_type_from_ggml(ggml_type_of(t)), t);
    auto g = ggml_type_info(ggml_type_of(t));
    ASSERT_TRUE(g);
    EXPECT_EQ(g->name, name(t));
    EXPECT_EQ(static_cast<int>(g->block_elems), info(t).block_elems);
    EXPECT_EQ(static_cast<int>(g->block_bytes), info(t).block_bytes);
  }
  EXPECT_EQ(quant_type_from_ggml(ggml::Q3_K), std::nullopt);
}

// ---- malformed files: the first error, exactly as the user sees it ----

TEST(GgufErrors, TruncatedHeader) {
  std::vector<uint8_t> bytes = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0};
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: truncated header: the file has 10 bytes, the header needs 24");
  EXPECT_EQ(parse_error({}), "m.gguf: error: GGUF: truncated header: the file has 0 bytes, the header needs 24");
}

TEST(GgufErrors, BadMagic) {
  std::vector<uint8_t> bytes = small_writer().to_bytes();
  bytes[0] = 'F';
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: bad magic 0x46554746 (expected \"GGUF\")");
}

TEST(GgufErrors, UnsupportedVersions) {
  std::vector<uint8_t> bytes = small_writer().to_bytes();
  put_u32(bytes, 4, 1);
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: unsupported version 1 (expected 2 or 3)");
  put_u32(bytes, 4, 0x03000000);
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: unsupported version 50331648 (expected 2 or 3; this is a "
            "big-endian file, which g4c does not read)");
}

// A 1 KB file whose one metadata entry, general.name, claims a string of `length` bytes.
std::vector<uint8_t> name_string_of_length(uint64_t length) {
  std::vector<uint8_t> bytes;
  append_u32(bytes, kMagic);
  append_u32(bytes, 3);
  append_u64(bytes, 0);
  append_u64(bytes, 1);
  append_string(bytes, "general.name");
  append_u32(bytes, static_cast<uint32_t>(ValueType::string));
  append_u64(bytes, length);
  bytes.resize(1024);
  return bytes;
}

TEST(GgufErrors, StringLongerThanTheFile) {
  std::vector<uint8_t> bytes = name_string_of_length(2000);
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: metadata key \"general.name\" at byte 48: string of "
            "2000 bytes runs past the end of the file (1024 bytes)");
  put_u64(bytes, 24, 4000);  // the key's own length
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: metadata entry 0 at byte 24: key of 4000 bytes "
            "runs past the end of the file (1024 bytes)");
}

// Lengths and counts past the limits are refused before the file's size is consulted, so a
// 1 KB file can claim them; one below each limit is then judged against the file instead.
TEST(GgufErrors, LengthsAndCountsPastTheLimits) {
  std::vector<uint8_t> bytes = name_string_of_length(kMaxStringBytes + 1);
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: metadata key \"general.name\" at byte 48: string of 268435457 "
                                "bytes is longer than 268435456 (g4c's limit)");
  put_u64(bytes, 48, kMaxStringBytes);
  EXPECT_NE(parse_error(bytes).find("string of 268435456 bytes runs past the end of the file"), std::string::npos);
  put_u64(bytes, 24, kMaxKeyBytes + 1);
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: metadata entry 0 at byte 24: key of 65536 bytes is longer than "
                                "65535 (the GGUF format's limit)");
  put_u64(bytes, 8, kMaxTensors + 1);
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: header at byte 8: tensor count 65537 is more than 65536 (g4c's limit)");
  put_u64(bytes, 8, kMaxTensors);
  EXPECT_NE(parse_error(bytes).find("tensor count 65536 runs past the end of the file"), std::string::npos);
  put_u64(bytes, 8, 0);
  put_u64(bytes, 16, kMaxMetadataEntries + 1);
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: header at byte 16: metadata count 65537 is more than 65536 (g4c's limit)");
}

// A name of exactly the format's limit is read; one byte more is refused.
TEST(GgufErrors, TensorNamesLongerThanTheFormatAllows) {
  auto file_with_name = [](size_t length) {
    Writer w;
    w.set("general.architecture", Value::make_string("gemma4"));
    w.add_tensor(std::string(length, 'x'), {32}, ggml::F32, filled(128, 1));
    return w.to_bytes();
  };
  parse_ok(file_with_name(kMaxTensorNameBytes));
  const size_t tensor_at = 24 + 8 + std::strlen("general.architecture") + 4 + 8 + std::strlen("gemma4");
  EXPECT_EQ(parse_error(file_with_name(kMaxTensorNameBytes + 1)),
            "m.gguf: error: GGUF: tensor 0 at byte " + std::to_string(tensor_at) +
                ": name of 65 bytes is longer than 64 (the GGUF format's limit)");
}

TEST(GgufErrors, CountsLargerThanTheFileCanHold) {
  std::vector<uint8_t> bytes = small_writer().to_bytes();
  std::string size = std::to_string(bytes.size());
  put_u64(bytes, 8, 60000);
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: header: tensor count 60000 runs past the end of the file (" + size +
                " bytes); a tensor info takes at least 24 bytes");
  bytes = small_writer().to_bytes();
  put_u64(bytes, 16, 60000);
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: header: metadata count 60000 runs past the end of "
            "the file (" +
                size + " bytes); an entry takes at least 13 bytes");
}

TEST(GgufErrors, ArrayLongerThanTheFile) {
  Writer w;
  w.set("tokenizer.ggml.tokens", Value::make_string_array(std::vector<std::string>{"a"}));
  std::vector<uint8_t> bytes = w.to_bytes();
  size_t array_at = 24 + 8 + std::strlen("tokenizer.ggml.tokens") + 4;
  put_u64(bytes, array_at + 4, uint64_t{1} << 59);
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: metadata key \"tokenizer.ggml.tokens\" at byte " +
                                    std::to_string(array_at) +
                                    ": array of 576460752303423488 string elements runs "
                                    "past the end of the file (" +
                                    std::to_string(bytes.size()) + " bytes)");
}

TEST(GgufErrors, UnknownValueTypes) {
  Writer w;
  w.set("general.architecture", Value::make_string("gemma4"));
  std::vector<uint8_t> bytes = w.to_bytes();
  size_t type_at = 24 + 8 + std::strlen("general.architecture");
  put_u32(bytes, type_at, 13);
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: metadata key \"general.architecture\" at byte " +
                                    std::to_string(type_at) + ": unknown value type 13 (expected 0..12)");
  put_u32(bytes, type_at, static_cast<uint32_t>(ValueType::array));
  put_u32(bytes, type_at + 4, 77);  // the element type, where the string's length was
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: metadata key \"general.architecture\" at byte " +
                                    std::to_string(type_at + 4) + ": unknown array element type 77 (expected 0..12)");
}

TEST(GgufErrors, DeeplyNestedArrays) {
  Value v = Value::make_u8(1);
  for (int i = 0; i < kMaxArrayDepth + 1; ++i) v = Value::make_array(v.type, {v});
  Writer w;
  w.set("deep", v);
  std::string message = parse_error(w.to_bytes());
  EXPECT_NE(message.find("arrays nested more than 8 deep (g4c's limit)"), std::string::npos) << message;
}

TEST(GgufErrors, DuplicateKeysAndTensors) {
  Writer twice;
  twice.set("a", Value::make_u8(1));
  twice.set("b", Value::make_u8(2));
  std::vector<uint8_t> dup = twice.to_bytes();
  dup[24 + 8 + 1 + 4 + 1 + 8] = 'a';  // rename key "b" to "a"
  EXPECT_EQ(parse_error(dup), "m.gguf: error: GGUF: metadata key \"a\" at byte 38: the key appears twice");
  Writer tensors;
  tensors.add_tensor("x", {1}, ggml::F32, std::vector<uint8_t>(4));
  tensors.add_tensor("y", {1}, ggml::F32, std::vector<uint8_t>(4));
  std::vector<uint8_t> dup_tensor = tensors.to_bytes();
  size_t second_info = 24 + (8 + 1 + 4 + 8 + 4 + 8);
  dup_tensor[second_info + 8] = 'x';
  EXPECT_EQ(parse_error(dup_tensor),
            "m.gguf: error: GGUF: tensor \"x\" at byte " + std::to_string(second_info) + ": the name appears twice");
}

TEST(GgufErrors, BadAlignment) {
  Writer w = small_writer();
  w.set("general.alignment", Value::make_u32(48));
  EXPECT_EQ(parse_error(w.to_bytes()),
            "m.gguf: error: GGUF: metadata key \"general.alignment\": 48 is not a power of "
            "two (expected 1, 2, 4, ... such as 32)");
  w.set("general.alignment", Value::make_i32(32));
  EXPECT_EQ(parse_error(w.to_bytes()),
            "m.gguf: error: GGUF: metadata key \"general.alignment\": type i32 (expected u32)");
}

// A file with one tensor info and no metadata; the info starts at byte 24.
std::vector<uint8_t> one_tensor(std::string_view name, std::vector<int64_t> dims, uint32_t type, size_t data_bytes) {
  Writer w;
  w.add_tensor(std::string(name), std::move(dims), type, std::vector<uint8_t>(data_bytes));
  return w.to_bytes();
}

TEST(GgufErrors, TensorInfos) {
  EXPECT_EQ(parse_error(one_tensor("blk.0.attn_q.weight", {32}, 99, 128)),
            "m.gguf: error: GGUF: tensor \"blk.0.attn_q.weight\": unknown ggml type 99");
  EXPECT_EQ(parse_error(one_tensor("x", {1, 1, 1, 1, 1}, ggml::F32, 4)),
            "m.gguf: error: GGUF: tensor \"x\" at byte 33: 5 dimensions (expected at most 4)");
  EXPECT_EQ(parse_error(one_tensor("x", {100}, ggml::Q4_K, 144)),
            "m.gguf: error: GGUF: tensor \"x\": rows of 100 elements are not a whole number of Q4_K blocks (256 "
            "elements each)");
  std::vector<uint8_t> huge = one_tensor("x", {1}, ggml::F32, 4);
  put_u64(huge, 24 + 9 + 4, uint64_t{1} << 63);
  EXPECT_EQ(parse_error(huge),
            "m.gguf: error: GGUF: tensor \"x\": dimension 0 is 9223372036854775808 (expected less "
            "than 2^63)");
  put_u64(huge, 24 + 9 + 4, uint64_t{1} << 62);
  EXPECT_EQ(parse_error(huge),
            "m.gguf: error: GGUF: tensor \"x\": [4611686018427387904] F32 is too large (its bytes or "
            "elements reach 2^63)");
}

TEST(GgufErrors, OffsetNotAMultipleOfTheAlignment) {
  std::vector<uint8_t> bytes = one_tensor("x", {32}, ggml::F32, 128);
  put_u64(bytes, 24 + 9 + 4 + 8 + 4, 17);
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: tensor \"x\": offset 17 is not a multiple of the alignment (32)");
}

TEST(GgufErrors, DataPastTheEndOfTheFile) {
  std::vector<uint8_t> bytes = one_tensor("blk.0.attn_q.weight", {1024, 2}, ggml::F32, 8192);
  uint64_t data_offset = parse_ok(bytes).data_offset();
  bytes.resize(6000);
  EXPECT_EQ(parse_error(bytes), "m.gguf: error: GGUF: tensor \"blk.0.attn_q.weight\": data [" +
                                    std::to_string(data_offset) + ", " + std::to_string(data_offset + 8192) +
                                    ") runs past the end of the file (6000 bytes)");
  bytes = one_tensor("x", {32}, ggml::F32, 128);
  put_u64(bytes, 24 + 9 + 4 + 8 + 4, UINT64_MAX - 31);  // aligned, but the range overflows
  EXPECT_EQ(parse_error(bytes),
            "m.gguf: error: GGUF: tensor \"x\": offset 18446744073709551584 runs past the end of "
            "the file (" +
                std::to_string(bytes.size()) + " bytes)");
}

// ---- hostile input: every outcome is a parse or one error ----

void expect_sane(const File& file) {
  const uint8_t* begin = file.bytes().data();
  const uint8_t* end = begin + file.size();
  for (const TensorInfo& t : file.tensors()) {
    EXPECT_GE(t.data, begin);
    EXPECT_LE(t.data + t.bytes, end);
  }
}

TEST(GgufFuzz, EveryTruncationFailsCleanly) {
  std::vector<uint8_t> bytes = small_writer().to_bytes();
  File full = parse_ok(bytes);
  const TensorInfo& last = full.tensors().back();
  size_t needed = full.data_offset() + last.offset + last.bytes;
  for (size_t n = 0; n < bytes.size(); ++n) {
    DiagnosticEngine diag;
    auto file = parse(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n), diag);
    EXPECT_EQ(file.has_value(), n >= needed) << "truncated to " << n << " bytes: " << errors_of(diag);
    EXPECT_EQ(diag.error_count(), file ? 0 : 1) << n;
    if (file) expect_sane(*file);
  }
}

TEST(GgufFuzz, RandomCorruptionsParseOrFailCleanly) {
  std::vector<uint8_t> original = small_writer().to_bytes();
  std::mt19937 rng(20240611);  // fixed seed: the same corruptions on every machine
  int parsed = 0, failed = 0;
  for (int round = 0; round < 600; ++round) {
    std::vector<uint8_t> bytes = original;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      size_t at = rng() % bytes.size();
      // Bias towards the header, metadata and infos, where lengths and counts live.
      if (rng() % 2) at %= std::min<size_t>(bytes.size(), 400);
      bytes[at] = static_cast<uint8_t>(rng() % 3 == 0 ? 0xff : rng());
    }
    DiagnosticEngine diag;
    auto file = parse(std::move(bytes), diag);
    if (file) {
      ++parsed;
      expect_sane(*file);
    } else {
      ++failed;
      EXPECT_EQ(diag.error_count(), 1);
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(parsed, 0);  // corruptions inside tensor data leave a valid file
}

}  // namespace
}  // namespace g4c::gguf
