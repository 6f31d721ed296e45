{
  # One addon, rerender_native: patch synthesis, optical flow/guides, (native/src/blend) blending and
  # (native/src/control) ControlNet preprocessing.
  # N-API only, so the same binary loads in Node and Electron. -march stays portable (x86-64-v2).
  # -fopenmp: the blend stage parallelises with OpenMP; synth/flow use their own fixed-tile pool.
  "targets": [
    {
      "target_name": "rerender_native",
      "sources": [
        "src/addon.cc",
        "src/common/napi_args.cc",
        "src/common/cancel_token.cc",
        "src/common/parallel.cc",
        "src/synth/pyramid.cc",
        "src/synth/patchmatch.cc",
        "src/synth/synth.cc",
        "src/synth/synth_napi.cc",
        "src/flow/flow.cc",
        "src/flow/flow_napi.cc",
        "<!@(node -p \"require('fs').readdirSync('src/blend').filter(f=>f.endsWith('.cc')).map(f=>'src/blend/'+f).join(' ')\")",
        "src/control/canny.cc",
        "src/control/control_napi.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "src",
        "<!@(pkg-config --cflags-only-I opencv4 | sed 's/-I//g')"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags": ["-O3", "-march=x86-64-v2", "-fexceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=x86-64-v2", "-fexceptions", "-frtti", "-fopenmp", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-lopencv_video", "-lopencv_imgproc", "-lopencv_core", "-lpthread"]
    }
  ]
}
