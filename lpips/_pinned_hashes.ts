/**
 * Pinned SHA-256 of every tensor in the official weight files this project can verify: the
 * `features` tensors of the torchvision AlexNet and SqueezeNet 1.1 ImageNet weights and the six
 * official LPIPS linear heads. Each hash is of the tensor's raw float32 little-endian bytes in C
 * order. VGG16 is absent on purpose: its ImageNet weights were not available to pin.
 *
 * GENERATED from `shared/weights/tensors.tsv` (the rows of the eight files above); do not edit by
 * hand. `lpips/weights_test.ts` checks that it still agrees with that table.
 *
 * @module
 */

/** Official relative file name -> tensor key -> sha256 (hex) of its float32 little-endian bytes. */
export const PINNED_TENSOR_SHA256: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "alexnet-owt-7be5be79.pth": {
    "features.0.weight": "773e4bd41d838a8fcd8640b53a6456b165a65cd3f778e5e3b3aaaddafa4426e1",
    "features.0.bias": "1650bc2c61c27bc5c6dd0569b5471133ca074c4c0b5eef1fee85e0a0ba301681",
    "features.3.weight": "1918ec03598fcb19b87db2a9c1c886c4276899082405ae292fc29267beefae4d",
    "features.3.bias": "32454d8c50c6e8c7d158f9161d968fce7ddb8645a017a3120131db575a1e7b8f",
    "features.6.weight": "121de1060ad00f9a856e9a5baf828d99accbe38652100afe81c9215b231b3301",
    "features.6.bias": "d74eb2693a64bcaccc90c26a3acf98c3eda8eadc18d2dffb9e3729a33f31d6fe",
    "features.8.weight": "16adf963706e1a5e40700123791bd333d5b87804b0fd9e31b0cf11dc74e677be",
    "features.8.bias": "a3443d4b64a683d1c2d680afc856a3e787ac29363e8def8f61fec9d740582c41",
    "features.10.weight": "82669e3c4465e69bdbc5700abeb58bd30f55810b30aadacb45a70df5c2a7792b",
    "features.10.bias": "a240db2e8beb55fdaa74d3fb13758a0439618eb39833456574dbc3af9b3779ca",
  },
  "squeezenet1_1-b8a52dc0.pth": {
    "features.0.weight": "08239221c2dd98efe376c32dc0b5cbff616773042547bdcf2a244ada957a3d31",
    "features.0.bias": "ec9a5b414dfd3698fc7419b6bcaea0d4f85b017c2c3f8b8f5dae9445b7d0399e",
    "features.3.squeeze.weight": "09a8defb13c1b59531ae51de7432a377f232139ad2186b19093b98954662e6d0",
    "features.3.squeeze.bias": "6a058f8b81698988ced4c3c64259bf47b2c17aec45b0bba45872fc191ad8983f",
    "features.3.expand1x1.weight":
      "0fe912296f826092bf235456cf5361a80803d3068e8783c71a97b7741d531169",
    "features.3.expand1x1.bias": "692c4e21bff97c78986b98f0b7d5661fcd3cf0705080e4fc65108b721d35b404",
    "features.3.expand3x3.weight":
      "e3a615232665f9c475190ab84796846775a84ee1f221fd3709644d7ad21986bb",
    "features.3.expand3x3.bias": "8cdbf7deb833515b75027d0936d8e13c6138d0dfe339ebfa52a8f2dfb8e53a72",
    "features.4.squeeze.weight": "e3c6f93af4478e2c85747a5ce221219bf27f42b408bf7ce2e87cce0147a12cdc",
    "features.4.squeeze.bias": "6a5f1fa2c6e9e8618f12fe9f7b1930c1e163720383dea8cd85bd64aa1bde4b87",
    "features.4.expand1x1.weight":
      "184a2b24cf4679ffaa9fe0de5444f642c38f0c888aa7d851037aee6e4fc92092",
    "features.4.expand1x1.bias": "e6681c3d50750ba618c1d1ba1bd0497837c3d0813bacbd4bbbc5817de1e4767c",
    "features.4.expand3x3.weight":
      "73646ff2640806344d83b296e246f34c553ce417a050d423aea46c26ddaee2a9",
    "features.4.expand3x3.bias": "80eb880cf20312cdfecb0564ddd35b9c8fb0a1e2fe56e6bf4f0410c2c632def8",
    "features.6.squeeze.weight": "26dd9191c00ef80b2d8dfe98d48a1272b718772e1cb422c7a71d6fca3ca6f4a0",
    "features.6.squeeze.bias": "8c4f389696760e8ada51bac0f2a1b7242ec8acf96c085caf07718c1ec6161c34",
    "features.6.expand1x1.weight":
      "31347f4186d8fad3bc11fa75bd4363e55c89e3c2b6dc5606e8b972f6fa08a0c5",
    "features.6.expand1x1.bias": "a2e1ea24e539c57b47b8ddd9bd616ef827e86930349d78541ae8725655d5e6e7",
    "features.6.expand3x3.weight":
      "bee9e15df941422dc7eeaead74183b5bcc83c6cd9cd9b05f65d04cef51fe5695",
    "features.6.expand3x3.bias": "470a32294479144e28edc5c4987f90ae0eadf6833b891ce4e9713f02d81feb0c",
    "features.7.squeeze.weight": "4396e51f8a5a288ed4f4490382ad0c01e2428b8f333ea4dfe1012ac98e1ff054",
    "features.7.squeeze.bias": "1d0ce81042a8e9912aa6bc59b35068d48e39ddb7bc1ef2a1b02f6bf3302a29ff",
    "features.7.expand1x1.weight":
      "9280ea23c872dce9b8d9b88d6cbddf4bb8f04cb4bbac0d470e1e5a405d95f88b",
    "features.7.expand1x1.bias": "f2aae3bd44d9369ef5e907c1019ba9c26377b478bf0d0c882a2a2e029df524de",
    "features.7.expand3x3.weight":
      "3677309f903c30d4dd313f34f03c93f1a56f400ac1a3fbaee9ca8bd47799cf80",
    "features.7.expand3x3.bias": "e79f7d741d12eee5dec018d89cbe9867db5a75d8643acdf442d167ec09c12dd2",
    "features.9.squeeze.weight": "5c6e49e0f3e4fd5a44380d06a1c8ef5581459bd47a8112960f3cea569ff43847",
    "features.9.squeeze.bias": "9fd9a070cd15c63fe3f3e0f7b7d2eb69bd1bb1880f4f7c89a0fa736d30a1968f",
    "features.9.expand1x1.weight":
      "39a0bae6ec38088800e522354d924b0f430dfe13d539fab6a6533c6da202c384",
    "features.9.expand1x1.bias": "7b0cbbe1622fc37253d041421c91f3915dd51432dc5194d2036ae3135cbaa0e3",
    "features.9.expand3x3.weight":
      "9056da1eaee9318fdf8c3ebfa9b803877ecec23bb8d96c910dd2e5430c9ddfc1",
    "features.9.expand3x3.bias": "71f5aff69effa50c9ccb590277f103cb7004841b46faa904c7e9498455901e1f",
    "features.10.squeeze.weight":
      "52213d7ffa23ffea26a85d959e59ad6e494de0968bda595491579cd4cd90e973",
    "features.10.squeeze.bias": "3d9abe0dc268d05f239a048e062f1d3e8d041fb0cd9cce939ef6fd505c5c448f",
    "features.10.expand1x1.weight":
      "eff3cc5861f4c4e79e421458492fc362ad0b27acf402f58bb9542fc55d036535",
    "features.10.expand1x1.bias":
      "3a7f1d699e1cbb794365bdd85370cb86fca5e3650ec9c9da8d3bbb1d20072fee",
    "features.10.expand3x3.weight":
      "cd8a036eaa540c42232e6ca87a5fa73b108f61d49f387b0c698913fe981ac8de",
    "features.10.expand3x3.bias":
      "17a2854638053c57544c1e42063af5d9b7fafce1930e33547cfa06dc8e06ba0b",
    "features.11.squeeze.weight":
      "b9cf7dcc509ef0a88cacd23e23a2d818d2daf0234ccd8289a52abaf80f612631",
    "features.11.squeeze.bias": "e617174a06bd8482031ea86be7783d40b3af17ad141965e582d6a5ae4683d64c",
    "features.11.expand1x1.weight":
      "3b98914ba71cf49b841dca29f8eeb8c3925f51039a9a655627e54bfd038aeb93",
    "features.11.expand1x1.bias":
      "e3f1877cf6a2daa896315b12c93a5ceb5451548a08182f2a6cfaac7ff127af81",
    "features.11.expand3x3.weight":
      "05a86d949d85f394b21ab5290650dac7b398bd79b600cb7270429ec00642cf5f",
    "features.11.expand3x3.bias":
      "db90ba69d865780b9354a3d1d998d0e24dc6c404e4e86c593a102e165836467e",
    "features.12.squeeze.weight":
      "0d96dc64ddaad74ea7b292f026e5a2ec370257d7b055a0cd9e0a5e173bd61c8d",
    "features.12.squeeze.bias": "12fabd150a71cf09c728ee23318ce0743023fbb12c5682689c8035ed15e1fb7c",
    "features.12.expand1x1.weight":
      "222fcee0df44656b81797f0b05aa7f2ff52a55ed3e52d04409c547440e55ecec",
    "features.12.expand1x1.bias":
      "60ee5aaabe53bd7d9a2852556bed52cc517eba4ba86936ea548b547a29d77a12",
    "features.12.expand3x3.weight":
      "3d475491d485c0cd1a884b5dcba67076581d2ed7e1a3365906be5695a83dedbe",
    "features.12.expand3x3.bias":
      "9f9983c1d8194a4e02e52a725ca007bfebe00466b4be042ce658c9ff74a835a5",
  },
  "lpips/v0.0/alex.pth": {
    "lin0.model.1.weight": "99808b4a2165088f65f08ec3f82c0b75d059d148d2a6b93b6649a8ce8a2ef813",
    "lin1.model.1.weight": "dd9ccdb0ebb2112a140bf16fed45f73971ff1114bc1ce88e954b4bdc15b2e2fc",
    "lin2.model.1.weight": "955b75ed0b94da5fcb5445525d3ba6473f076e6a4bb58b8483f9b58df6f850ed",
    "lin3.model.1.weight": "fdd5fb9bd58fa99681cbf8ce7c3bca7ac06968a2eb27a51c71138129070a8f9b",
    "lin4.model.1.weight": "4c53d6def7e15252478276c445b2f9146bd67491daa86ab645f3e7f8fdd808da",
  },
  "lpips/v0.0/squeeze.pth": {
    "lin0.model.1.weight": "ce0b1a1e3059454092f6488bb1b967047e84db711b8948fe759362acc0d95d6d",
    "lin1.model.1.weight": "f398c70a42f45348811f4b668420c37a97e7e28fc947e51e626bb58a741af38d",
    "lin2.model.1.weight": "ff635614915767cd2df8f3c7a3097ad90f96f3c2b9824f10a51bdc36186d905e",
    "lin3.model.1.weight": "7bc5a338d58744b4fc8fafb4f2d525b2681eefc213a419fa716c38951fa492e5",
    "lin4.model.1.weight": "ba4664c11f1f5576e5816592ac907843566f6bf3fe332b2f81136b3c417dfe8a",
    "lin5.model.1.weight": "203868a725037d6cbabd66f680f6a0ac1c527ee42aab4ecdd639477b108c8ae0",
    "lin6.model.1.weight": "b05d8fbc6eaedaf3676399f57bf8f4ced96f8a7298e6ef465f9e3d17baa0935e",
  },
  "lpips/v0.0/vgg.pth": {
    "lin0.model.1.weight": "8e4c11024aefcad53bfcf4c57bb3746b74ae7b5729cf1c4b91bc5d85106c2cfe",
    "lin1.model.1.weight": "589cd7dfd64d7b02e6b98cc40618c2c72e7824fa2c8b2e1110e3dfa405d11c7f",
    "lin2.model.1.weight": "1ebf48c673ceaf92fa4ebb0a2481ed8f54c0e2d26d4bc16090e0e280d5806016",
    "lin3.model.1.weight": "728457c9f32cc26375c753265c058374e8d074c8f6294d802e965a1fd0c5e021",
    "lin4.model.1.weight": "d47ab6f21422c089ca8d536101f06b1df1adade505b768a3ea6b4e646dbf65fe",
  },
  "lpips/v0.1/alex.pth": {
    "lin0.model.1.weight": "1b21ee01e0de563ae9c7d645f8c40534d878fe5fc00b00cc01a29e3887cb8822",
    "lin1.model.1.weight": "96b20e99719b4f1ac74b927546a2418913e87e95adc90a6629587fff450e3306",
    "lin2.model.1.weight": "ba5d4595d966dde9d19855d8e139ef6271f012a945b279cccffed2485e0e5992",
    "lin3.model.1.weight": "51c7dbf1c5c1e31db1baaf2618172ddd8b8240a8cd957a915582e0748cfb2a89",
    "lin4.model.1.weight": "60b6388e7b80292d96b8150f1f12605aa514f148847959ce322453731810029c",
  },
  "lpips/v0.1/squeeze.pth": {
    "lin0.model.1.weight": "229c414d697881796a98e115e506b585bad36c8509bbdff78815880008e8af72",
    "lin1.model.1.weight": "9e646883ba0a6c21a70ae86e6f8249bf901943f7de2cb457f1ed103749f0358d",
    "lin2.model.1.weight": "c31f83c3e766fbbea4f844eb96b564d5dc74ffd81e60c86f3feed93feb7399b8",
    "lin3.model.1.weight": "d3ef2bfb5e7e2c7d6057b87f914a3d8d41a02e972b0d409f389d4c559c530ea6",
    "lin4.model.1.weight": "2b019ede373f17965fd75678a82d740d988f22a49f3acd3bb74c1e354a346d8e",
    "lin5.model.1.weight": "e997b51d2d9da11509375ae73d7dcbc843c13295d2f0b56615863e56703c7a6d",
    "lin6.model.1.weight": "2a04f6f6f10023cb84db96f624b3b679796148c7457a3eeb54d04e8be6b6192b",
  },
  "lpips/v0.1/vgg.pth": {
    "lin0.model.1.weight": "b4ee423bb7c8ef01a0198639747b33583380b4cf8a087ef48bc081cbab036a96",
    "lin1.model.1.weight": "7fd9e5e5d8d68cc0b8fa2828099bae7753bd9376c9b40607ddf520f0c24d565d",
    "lin2.model.1.weight": "63d06a086d0592f7cbb32ccfa9c0cd8b89c53798f5985e986b2048625e214ad9",
    "lin3.model.1.weight": "16246e8056f57bc5539c47ef5406d343cfa17575f70508e7b577b51056f7be66",
    "lin4.model.1.weight": "3735a0ea893525bde6544cab01a0525bee073f64819d7a0feb7ad37a6965052d",
  },
};
