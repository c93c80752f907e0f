// CSV/text and HDF5 readers of N x d user data, with line- and row-exact error messages.
#include "eqflow/io/matrix_file.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "eqflow/core/error.hpp"
#include "eqflow/io/hdf5_file.hpp"

namespace eqflow::io {
namespace {

constexpr const char* kBlank = " \t\r\n\f\v";

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlank) - first + 1);
}

//! The fields of one line: split at commas and semicolons if it has any, else at runs of
//! whitespace. Fields are trimmed and lose one pair of surrounding double quotes.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  const bool delimited = line.find_first_of(",;") != std::string_view::npos;
  std::size_t i = 0;
  while (i <= line.size()) {
    std::size_t end;
    if (delimited) {
      end = line.find_first_of(",;", i);
    } else {
      i = line.find_first_not_of(kBlank, i);
      if (i == std::string_view::npos) break;
      end = line.find_first_of(kBlank, i);
    }
    if (end == std::string_view::npos) end = line.size();
    std::string_view field = trim(line.substr(i, end - i));
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
      field = trim(field.substr(1, field.size() - 2));
    }
    fields.push_back(field);
    i = end + 1;
  }
  return fields;
}

//! The number a whole field spells (an optional leading '+' allowed), or nothing.
std::optional<double> parse_number(std::string_view field, bool* out_of_range) {
  if (!field.empty() && field.front() == '+') {
    field.remove_prefix(1);
    if (!field.empty() && field.front() == '-') return std::nullopt;
  }
  if (field.empty()) return std::nullopt;
  double value = 0.0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (end != field.data() + field.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    *out_of_range = true;
    return std::nullopt;
  }
  if (ec != std::errc()) return std::nullopt;
  return value;
}

}  // namespace

Matrix read_matrix_csv(const std::string& path) {
  std::error_code fs_error;
  if (!std::filesystem::exists(path, fs_error)) throw IoError(path, "file not found");
  if (std::filesystem::is_directory(path, fs_error)) {
    throw IoError(path, "is a directory, expected a CSV/text file of numbers");
  }
  std::ifstream in(path);
  if (!in) throw IoError(path, fmt::format("cannot open for reading: {}", std::strerror(errno)));

  Matrix m;
  std::size_t line_number = 0;
  std::size_t width_line = 0;  // the line that fixed the number of columns
  bool header_seen = false;
  std::string line;
  while (std::getline(in, line)) {
    ++line_number;
    std::string_view text = line;
    if (line_number == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
    text = trim(text.substr(0, text.find('#')));
    if (text.empty()) continue;

    const std::vector<std::string_view> fields = split_fields(text);
    const std::string where = fmt::format("{}:{}", path, line_number);

    // The first content line may be a header: names only, no field numeric.
    if (width_line == 0) {
      bool out_of_range = false;
      bool any_numeric = false;
      for (std::string_view f : fields) any_numeric |= parse_number(f, &out_of_range).has_value();
      if (!any_numeric && !out_of_range) {
        header_seen = true;
        m.cols = fields.size();
        width_line = line_number;
        continue;
      }
    }

    if (width_line == 0) {
      m.cols = fields.size();
      width_line = line_number;
    } else if (fields.size() != m.cols) {
      throw IoError(where, fmt::format("{} column{}, expected {} (as on line {}{})", fields.size(),
                                       fields.size() == 1 ? "" : "s", m.cols, width_line,
                                       header_seen ? ", the header" : ""));
    }
    for (std::size_t c = 0; c < fields.size(); ++c) {
      const std::string_view f = fields[c];
      if (f.empty()) {
        throw IoError(where, fmt::format("column {} is empty, expected a number", c + 1));
      }
      bool out_of_range = false;
      const std::optional<double> value = parse_number(f, &out_of_range);
      if (out_of_range) {
        throw IoError(where,
                      fmt::format("column {}: '{}' is out of the range of a double", c + 1, f));
      }
      if (!value) {
        throw IoError(
            where, fmt::format(
                       "column {}: '{}' is not a number{}", c + 1, f,
                       m.rows == 0 && !header_seen ? " (a header line must hold only names)" : ""));
      }
      if (!std::isfinite(*value)) {
        throw IoError(where, fmt::format("column {}: '{}' is not finite (NaN and inf are not "
                                         "allowed in data)",
                                         c + 1, f));
      }
      m.values.push_back(*value);
    }
    ++m.rows;
  }
  if (in.bad()) throw IoError(path, fmt::format("read error after line {}", line_number));
  if (m.rows == 0) {
    throw IoError(path, header_seen ? "no data rows after the header line"
                                    : "no data rows (the file is empty or holds only comments)");
  }
  return m;
}

Matrix read_matrix_hdf5(const std::string& path, const std::string& dataset) {
  const H5File file = H5File::open(path);
  if (!file.exists(dataset)) {
    // Help the user find the right name: list what the parent group holds.
    const std::size_t slash = dataset.find_last_of('/');
    const std::string parent = slash == std::string::npos ? "/" : dataset.substr(0, slash + 1);
    std::string hint;
    if (file.is_group(parent)) {
      const std::vector<std::string> names = file.list(parent);
      for (std::size_t i = 0; i < names.size() && i < 10; ++i) {
        hint += (i ? ", " : "") + names[i];
      }
      if (names.size() > 10) hint += ", ...";
      hint = names.empty() ? fmt::format(" (group '{}' is empty)", parent)
                           : fmt::format(" (group '{}' holds: {})", parent, hint);
    }
    throw IoError(path, fmt::format("dataset '{}' not found{}", dataset, hint));
  }
  if (file.is_group(dataset)) {
    throw IoError(path, fmt::format("'{}' is a group, expected a 2-D N x d dataset", dataset));
  }

  // The rank comes from the dataspace, before any data is read.
  const std::vector<std::size_t> shape = file.shape(dataset);
  if (shape.size() != 1 && shape.size() != 2) {
    std::string dims;
    for (std::size_t i = 0; i < shape.size(); ++i)
      dims += (i ? " x " : "") + std::to_string(shape[i]);
    throw IoError(path,
                  fmt::format("dataset '{}' has rank {}{}, expected a 2-D N x d array", dataset,
                              shape.size(), shape.empty() ? " (a scalar)" : " (" + dims + ")"));
  }
  Matrix m;
  m.rows = shape[0];
  m.cols = shape.size() == 2 ? shape[1] : 1;
  if (m.rows == 0) {
    throw IoError(path,
                  fmt::format("dataset '{}' has 0 rows, expected at least one sample", dataset));
  }
  if (m.cols == 0) {
    throw IoError(path, fmt::format("dataset '{}' has 0 columns, expected d >= 1", dataset));
  }
  m.values = file.read_doubles(dataset);
  for (std::size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i])) {
      throw IoError(path, fmt::format("dataset '{}': row {} (from 0), column {} is {}, expected "
                                      "finite numbers",
                                      dataset, i / m.cols, i % m.cols,
                                      std::isnan(m.values[i]) ? "NaN" : "inf"));
    }
  }
  return m;
}

}  // namespace eqflow::io
