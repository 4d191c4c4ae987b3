// Golden-value helper (ours, not NVIDIA's): runs LDR-FLIP through the FLIP v1.6 library exactly
// as its command-line tool does (stb PNG load, v / 255, sRGB -> linear, FLIP::evaluate with
// useHDR = false) and writes the whole float32 error map, which the tool itself only saves as a
// quantised PNG. It prints the mean summed as the tool's pooling sums it (float, row order).
//
// Build: g++ -O2 -std=c++17 -fopenmp -I FLIP_DIR flip_dump.cpp -o flip-dump
//        (FLIP_DIR holds FLIP.h and tool/; see flip_goldens.sh)
// Usage: flip-dump REF.png TEST.png PPD|default OUT.f32
#include "FLIP.h"
#include "tool/imagehelpers.h"

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv)
{
    if (argc != 5)
    {
        std::fprintf(stderr, "usage: flip-dump REF.png TEST.png PPD|default OUT.f32\n");
        return 2;
    }
    FLIP::image<FLIP::color3> reference, test;
    if (!ImageHelpers::load(reference, argv[1]) || !ImageHelpers::load(test, argv[2]))
    {
        std::fprintf(stderr, "flip-dump: cannot read %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    const int w = reference.getWidth(), h = reference.getHeight();
    if (test.getWidth() != w || test.getHeight() != h)
    {
        std::fprintf(stderr, "flip-dump: sizes differ\n");
        return 1;
    }
    reference.sRGBToLinearRGB();
    test.sRGBToLinearRGB();
    FLIP::Parameters parameters;
    if (std::strcmp(argv[3], "default") != 0) parameters.PPD = std::stof(argv[3]);
    FLIP::image<float> map(w, h, 0.0f);
    FLIP::evaluate(reference, test, false, parameters, map);

    std::vector<float> values(size_t(w) * h);
    float sum = 0.0f;
    size_t count = 0;
    for (int y = 0; y < h; y++)
    {
        for (int x = 0; x < w; x++)
        {
            values[size_t(y) * w + x] = map.get(x, y);
            sum += map.get(x, y);
            count++;
        }
    }
    FILE* out = std::fopen(argv[4], "wb");
    if (!out || std::fwrite(values.data(), sizeof(float), values.size(), out) != values.size())
    {
        std::fprintf(stderr, "flip-dump: cannot write %s\n", argv[4]);
        return 1;
    }
    std::fclose(out);
    std::printf("%.9g %.9g\n", double(sum / count), double(parameters.PPD));
    return 0;
}
