{
  # One addon, rerender_native: every .cc under native/src and its folders (synth, flow, blend,
  # control, ...), so a new source file needs no edit here.
  # N-API only, so the same binary loads in Node and Electron. -march stays portable (x86-64-v2).
  # -fopenmp: the blend stage parallelises with OpenMP; synth/flow use their own fixed-tile pool.
  "targets": [
    {
      "target_name": "rerender_native",
      "sources": [
        "<!@(node -p \"const fs=require('fs');['src'].concat(fs.readdirSync('src').filter(d=>fs.statSync('src/'+d).isDirectory()).map(d=>'src/'+d)).flatMap(d=>fs.readdirSync(d).filter(f=>f.endsWith('.cc')).map(f=>d+'/'+f)).sort().join(' ')\")"
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
