import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { FilesystemImageStore } from './filesystem-image-store';
import { ImageStore } from './image-store';
import { ImagesService } from './images.service';

@Module({
  providers: [
    {
      provide: ImageStore,
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        const store = new FilesystemImageStore(config.imageDir, undefined, config.get('IMAGE_WRITE_THREADS'));
        await store.init();
        return store;
      },
    },
    ImagesService,
  ],
  exports: [ImageStore, ImagesService],
})
export class ImagesModule {}

// Pure functions, used where images arrive (the box edge's mapper) before any service is involved.
export { decodeBase64Strict, decodeImage, sniffImage } from './image-decoding';
export type { DecodeFailure } from './image-decoding';
