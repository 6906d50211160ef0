#include "pinpipe/frame/column.h"

#include <cassert>

namespace pinpipe::frame {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kInt64:
      return "int64";
    case DataType::kDouble:
      return "double";
    case DataType::kString:
      return "string";
    case DataType::kDict:
      return "dict<string>";
    case DataType::kTimestamp:
      return "timestamp";
    case DataType::kListDouble:
      return "list<double>";
  }
  return "?";
}

size_t Column::NullCount() const {
  size_t nulls = 0;
  for (size_t i = 0; i < size(); ++i) nulls += IsNull(i);
  return nulls;
}

void Column::Reserve(size_t rows) {
  valid_.Reserve(rows);
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.reserve(rows);
      break;
    case DataType::kDouble:
      doubles_.reserve(rows);
      break;
    case DataType::kString:
      offsets_.reserve(rows + 1);
      break;
    case DataType::kDict:
      codes_.reserve(rows);
      break;
    case DataType::kListDouble:
      list_offsets_.reserve(rows + 1);
      break;
  }
}

void Column::Clear() {
  valid_.Clear();
  ints_.clear();
  doubles_.clear();
  offsets_.resize(1);  // offsets_[0] is 0
  bytes_.clear();
  codes_.clear();
  dict_offsets_.clear();
  dict_bytes_.clear();
  dict_index_.clear();
  list_offsets_.resize(1);
  list_valid_.Clear();
}

void Column::AppendNull() {
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.push_back(0);
      break;
    case DataType::kDouble:
      doubles_.push_back(0);
      break;
    case DataType::kString:
      offsets_.push_back(bytes_.size());
      break;
    case DataType::kDict:
      codes_.push_back(-1);
      break;
    case DataType::kListDouble:
      list_offsets_.push_back(doubles_.size());
      break;
  }
  valid_.Append(false);
}

int32_t Column::Intern(std::string_view value) {
  auto it = dict_index_.find(value);
  if (it != dict_index_.end()) return it->second;
  if (dict_offsets_.empty()) dict_offsets_.push_back(0);
  auto code = static_cast<int32_t>(dict_offsets_.size() - 1);
  dict_bytes_.append(value);
  dict_offsets_.push_back(dict_bytes_.size());
  dict_index_.emplace(std::string(value), code);
  return code;
}

void Column::AppendString(std::string_view value) {
  if (type_ == DataType::kDict) {
    codes_.push_back(Intern(value));
  } else {
    assert(type_ == DataType::kString);
    bytes_.append(value);
    offsets_.push_back(bytes_.size());
  }
  valid_.Append(true);
}

void Column::AppendList(std::span<const double> values, std::span<const bool> valid) {
  for (size_t j = 0; j < values.size(); ++j) {
    doubles_.push_back(values[j]);
    list_valid_.Append(valid[j]);
  }
  list_offsets_.push_back(doubles_.size());
  valid_.Append(true);
}

std::string_view Column::StringAt(size_t row) const {
  if (type_ == DataType::kDict) {
    int32_t code = codes_[row];
    return code < 0 ? std::string_view() : DictValue(code);
  }
  return std::string_view(bytes_).substr(offsets_[row], offsets_[row + 1] - offsets_[row]);
}

std::string_view Column::DictValue(int32_t code) const {
  return std::string_view(dict_bytes_)
      .substr(dict_offsets_[code], dict_offsets_[code + 1] - dict_offsets_[code]);
}

Column Column::Take(std::span<const uint32_t> rows) const {
  Column out(type_);
  out.Reserve(rows.size());
  if (type_ == DataType::kDict) {
    out.dict_offsets_ = dict_offsets_;
    out.dict_bytes_ = dict_bytes_;
    out.dict_index_ = dict_index_;
  }
  for (uint32_t row : rows) {
    if (IsNull(row)) {
      out.AppendNull();
      continue;
    }
    switch (type_) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        out.AppendInt64(ints_[row]);
        break;
      case DataType::kDouble:
        out.AppendDouble(doubles_[row]);
        break;
      case DataType::kString:
        out.AppendString(StringAt(row));
        break;
      case DataType::kDict:
        out.codes_.push_back(codes_[row]);
        out.valid_.Append(true);
        break;
      case DataType::kListDouble:
        for (size_t j = list_offsets_[row]; j < list_offsets_[row + 1]; ++j) {
          out.doubles_.push_back(doubles_[j]);
          out.list_valid_.Append(list_valid_.Get(j));
        }
        out.list_offsets_.push_back(out.doubles_.size());
        out.valid_.Append(true);
        break;
    }
  }
  return out;
}

void Column::AppendColumn(const Column& other) {
  assert(other.type_ == type_);
  size_t n = other.size();  // no Reserve here: repeated appends rely on geometric growth
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.insert(ints_.end(), other.ints_.begin(), other.ints_.end());
      for (size_t i = 0; i < n; ++i) valid_.Append(other.valid_.Get(i));
      return;
    case DataType::kDouble:
      doubles_.insert(doubles_.end(), other.doubles_.begin(), other.doubles_.end());
      for (size_t i = 0; i < n; ++i) valid_.Append(other.valid_.Get(i));
      return;
    case DataType::kString: {
      uint64_t base = bytes_.size();
      bytes_.append(other.bytes_);
      for (size_t i = 0; i < n; ++i) {
        offsets_.push_back(base + other.offsets_[i + 1]);
        valid_.Append(other.valid_.Get(i));
      }
      return;
    }
    case DataType::kDict: {
      std::vector<int32_t> remap(other.DictSize());
      for (size_t c = 0; c < remap.size(); ++c) {
        remap[c] = Intern(other.DictValue(static_cast<int32_t>(c)));
      }
      for (size_t i = 0; i < n; ++i) {
        int32_t code = other.codes_[i];
        codes_.push_back(code < 0 ? -1 : remap[code]);
        valid_.Append(other.valid_.Get(i));
      }
      return;
    }
    case DataType::kListDouble: {
      uint64_t base = doubles_.size();
      doubles_.insert(doubles_.end(), other.doubles_.begin(), other.doubles_.end());
      for (size_t j = 0; j < other.list_valid_.size(); ++j) {
        list_valid_.Append(other.list_valid_.Get(j));
      }
      for (size_t i = 0; i < n; ++i) {
        list_offsets_.push_back(base + other.list_offsets_[i + 1]);
        valid_.Append(other.valid_.Get(i));
      }
      return;
    }
  }
}

void Column::AppendRows(const Column& other, std::span<const uint32_t> rows) {
  assert(other.type_ == type_);
  // No Reserve, as in AppendColumn: repeated appends rely on geometric growth.
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      for (uint32_t r : rows) {
        ints_.push_back(other.ints_[r]);
        valid_.Append(other.valid_.Get(r));
      }
      return;
    case DataType::kDouble:
      for (uint32_t r : rows) {
        doubles_.push_back(other.doubles_[r]);
        valid_.Append(other.valid_.Get(r));
      }
      return;
    case DataType::kString:
      for (uint32_t r : rows) {
        bytes_.append(other.bytes_, other.offsets_[r], other.offsets_[r + 1] - other.offsets_[r]);
        offsets_.push_back(bytes_.size());
        valid_.Append(other.valid_.Get(r));
      }
      return;
    case DataType::kDict: {
      // Interned on first use: a group's dictionary may hold entries of rows not taken.
      std::vector<int32_t> remap(other.DictSize(), -1);
      for (uint32_t r : rows) {
        int32_t code = other.codes_[r];
        if (code >= 0) {
          if (remap[code] < 0) remap[code] = Intern(other.DictValue(code));
          code = remap[code];
        }
        codes_.push_back(code);
        valid_.Append(other.valid_.Get(r));
      }
      return;
    }
    case DataType::kListDouble:
      for (uint32_t r : rows) {
        for (size_t j = other.list_offsets_[r]; j < other.list_offsets_[r + 1]; ++j) {
          doubles_.push_back(other.doubles_[j]);
          list_valid_.Append(other.list_valid_.Get(j));
        }
        list_offsets_.push_back(doubles_.size());
        valid_.Append(other.valid_.Get(r));
      }
      return;
  }
}

void Table::AddColumn(std::string name, Column column) {
  names_.push_back(std::move(name));
  columns_.push_back(std::move(column));
}

void Table::ClearRows() {
  for (Column& c : columns_) c.Clear();
}

int Table::Find(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace pinpipe::frame
