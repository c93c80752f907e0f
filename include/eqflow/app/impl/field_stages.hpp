// Pieces shared by the stages of field runs (src/app/field_pipeline.cpp: data and score;
// src/app/field_flows.cpp: flows, similarity and frames).
#pragma once

#include <string>
#include <vector>

#include "eqflow/app/config.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/nn/parameters.hpp"
#include "eqflow/nn/unet.hpp"

namespace eqflow::app::impl {

//! A host copy of a flat View.
std::vector<float> host_vector(const View1<float>& v);
//! Copies `values` into `v`; throws IoError naming `what` on a size mismatch.
void set_from(const View1<float>& v, const std::vector<float>& values, const std::string& what);

//! Writes a store's parameters under `group`: `parameters` (flat), `buffers` (flat, when any)
//! and the layout (`layout/names`, `offsets`, `ranks`, `shapes`) that names every tensor.
void write_parameters(io::H5File& file, const std::string& group,
                      const nn::ParameterStore<float>& store);
//! Reads what write_parameters wrote into a store of the same layout (checked by name).
void read_parameters(const io::H5File& file, const std::string& group,
                     const nn::ParameterStore<float>& store);

//! The score UNet the deck describes, for data of `channels` channels.
nn::UNetConfig unet_config(const FieldRunConfig& c, std::size_t channels);

}  // namespace eqflow::app::impl
